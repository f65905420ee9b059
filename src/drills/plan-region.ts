import { join } from 'node:path';
import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { fmt } from './grade.js';
import type { PlannedStep } from './plan.js';
import { regionPlan } from './region-plan.js';
import type { ZonePlan } from './zone-plan.js';

/** `--dry-run` of a region drill: every step and what it would touch, without contacting anything. */
export function planRegion(config: BulwarkConfig, drill: DrillConfig, name: string, drillsDir: string): PlannedStep[] {
  const p = regionPlan(config, drill, name);
  const db = p.database;
  const pg = db && config.databases[db.name]!.postgres!;
  const prefix = `${config.coordination?.etcd?.prefix ?? '/bulwark'}/db/${db?.name}`;
  const graded = p.target.tier === undefined ? 'no tier: RTO and RPO are measured, not graded' : `against tier ${p.target.tier} (RTO ${fmt(p.target.rtoMs!)}, RPO ${fmt(p.target.rpoMs!)})`;
  const steps: PlannedStep[] = [
    { step: 'lock', touches: `${join(drillsDir, 'lock')} (one drill at a time)` },
    { step: 'recover', touches: `${join(drillsDir, 'journal.json')}: revert and record as aborted whatever a crashed drill left` },
  ];
  if (db?.recovery === 'failover') {
    steps.push(
      { step: 'check', touches: `etcd keys ${prefix}/* and members ${pg!.members.map((m) => `${m.name} ${m.host}:${m.port}`).join(', ')}: a writable leader in ${p.region} (${db.inRegion.join(', ')}), every member streaming from it` },
      { step: 'prepare', touches: `schema bulwark_drill_<run> (journalled first) with table writes(seq) on the primary, as ${pg!.superuser}` },
      { step: 'warm-up', touches: 'the sequence writer: 200 acknowledged writes on the primary' },
      { step: 'failback (journalled)', touches: `"${db.name} must lead from its current primary again" written to the journal before anything moves` },
    );
  }
  steps.push(...p.services.map((s) => ({ step: 'steady', touches: `GET ${s.trafficUrl} at ${s.ratePerSecond}/s (timeout ${s.requestTimeoutMs} ms) until 5 answers in a row` })));
  steps.push(...p.services.map((s) => ({ step: 'fault', touches: `service ${s.service} in region ${p.region}: ${s.out.map((e) => `${e.name} (${e.url})`).join(', ')}: ${how(s)} (journalled first)` })));
  if (db?.recovery === 'failover') {
    steps.push(db.mode === 'kill'
      ? { step: 'kill', touches: `in the same turn: SIGKILL to ${db.name}'s primary postmaster (journalled first: it must come back as a replica); its HA loop promotes a standby (${db.inDr.join(', ')} in ${p.drRegion})` }
      : { step: 'switchover', touches: `in the same turn: a switchover request at ${prefix}/switchover to ${db.to} (in ${p.drRegion})` });
    steps.push({ step: 'measure', touches: 'detection (leader key left), promotion (new leader writable), first write there; each service until a request is served by the endpoints left in ' + p.drRegion });
  } else if (db) {
    steps.push({ step: 'restore', touches: db.policies.length > 0 ? `no member of ${db.name} in ${p.drRegion}: restore policy ${db.policies[0]} (latest base backup and WAL) into a sandbox under ${drill.sandbox ?? join(drillsDir, 'sandboxes')}, a scratch PostgreSQL on a free port, validate, tear down` : `no member of ${db.name} in ${p.drRegion} and no backup policy: reported as a finding` });
  }
  steps.push({ step: 'hold', touches: `the region stays out ${p.faultMs} ms from the fault` });
  steps.push(...p.services.map((s) => ({ step: 'failback', touches: `service ${s.service}: revert every fault; until each endpoint in ${p.region} answers directly` })));
  if (db?.recovery === 'failover') {
    steps.push(
      { step: 'settle', touches: `the old primary streams from the new leader (≤ 3 min)${db.mode === 'kill' ? ' (its HA loop rejoins it)' : ''}; count acknowledged writes missing; drop the schema` },
      { step: 'failback', touches: `a switchover of ${db.name} back to the member that led before, until it leads with every member streaming` },
    );
  }
  steps.push({ step: 'grade', touches: `end-to-end RTO (the later of services served and database writable in ${p.drRegion}) and RPO ${graded}; recorded in drill_runs` });
  return steps;
}

function how(s: ZonePlan): string {
  return s.method === 'kill' ? `SIGKILL the process on each port, then ${s.restart === 'respawn' ? 'start its command line again' : 'leave the restart to its supervisor'}`
    : s.method === 'stop' ? 'SIGSTOP the process on each port, SIGCONT at failback' : 'disable each in the gateway, enable at failback';
}
