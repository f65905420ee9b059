import { join } from 'node:path';
import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { BulwarkError } from '../core/errors.js';
import { fmt } from './grade.js';
import type { PlannedStep } from './plan.js';
import type { DrillTarget } from './types.js';

/** The types that run the database failover drill: the schema's own name and seed 000's. */
const FAILOVER_TYPES: ReadonlySet<string> = new Set(['database_failover', 'failover_testing']);

export function isFailoverDrill(type: string): boolean {
  return FAILOVER_TYPES.has(type);
}

/** The database a failover drill works on: its `database:`, else the only PostgreSQL database. */
export function failoverDatabase(config: BulwarkConfig, database: string | undefined): string {
  const postgres = Object.entries(config.databases).filter(([, d]) => d.postgres).map(([n]) => n);
  if (database !== undefined) {
    if (!postgres.includes(database)) throw new BulwarkError('USAGE', `dr_testing names database "${database}", which is not a PostgreSQL database of databases:`, { hint: `PostgreSQL databases: ${postgres.join(', ') || 'none'}` });
    return database;
  }
  if (postgres.length === 1) return postgres[0]!;
  throw new BulwarkError('USAGE', postgres.length === 0 ? 'a failover drill needs a PostgreSQL database under databases:' : `a failover drill must name its database: ${postgres.join(', ')}`, {
    hint: 'set database: NAME under the drill in dr_testing',
  });
}

/** The tier a failover drill answers to: its own `tier:`, else its database's. */
export function failoverTarget(config: BulwarkConfig, drill: DrillConfig, database: string): DrillTarget {
  const name = drill.tier ?? config.databases[database]?.tier;
  const tier = name === undefined ? undefined : config.sla_tiers[name];
  if (name !== undefined && !tier) throw new BulwarkError('CONFIG_INVALID', `the failover drill is graded against tier "${name}", which sla_tiers does not have`, { hint: `known: ${Object.keys(config.sla_tiers).join(', ') || 'none'}` });
  return tier ? { tier: name, rtoMs: tier.rto, rpoMs: tier.rpo } : {};
}

/** `--dry-run`: every step of a failover drill, without contacting etcd or PostgreSQL. */
export function planFailover(config: BulwarkConfig, drill: DrillConfig, drillsDir: string, database: string, target: DrillTarget): PlannedStep[] {
  const pg = config.databases[database]!.postgres!;
  const members = pg.members.map((m) => `${m.name} ${m.host}:${m.port}`).join(', ');
  const etcd = config.coordination?.etcd;
  const prefix = `${etcd?.prefix ?? '/bulwark'}/db/${database}`;
  const kill = drill.mode === 'kill';
  const graded = target.tier === undefined ? 'no tier: RTO and RPO are measured, not graded' : `against tier ${target.tier} (RTO ${fmt(target.rtoMs!)}, RPO ${fmt(target.rpoMs!)})`;
  return [
    { step: 'lock', touches: `${join(drillsDir, 'lock')} (one drill at a time)` },
    { step: 'recover', touches: `${join(drillsDir, 'journal.json')}: revert and record as aborted whatever a crashed drill left` },
    { step: 'check', touches: `etcd ${etcd ? etcd.endpoints.join(', ') : '(coordination.etcd is not set: the drill will refuse)'} keys ${prefix}/*, and members ${members}: go on only with a writable leader and every member streaming from it${pg.synchronous === false ? '' : ' and in the synchronous set'}` },
    { step: 'prepare', touches: `schema bulwark_drill_<run> (journalled first) with table writes(seq) in database postgres on the primary, as ${pg.superuser}` },
    { step: 'warm-up', touches: 'a writer inserting increasing sequence numbers, one autocommit transaction each, into whichever member is writable; 200 acknowledged before the fault' },
    kill
      ? { step: 'kill', touches: 'SIGKILL to the primary\'s postmaster (its postmaster.pid, checked to be a process of this host; journalled first: the old primary must come back as a replica)' }
      : { step: 'switchover', touches: `a switchover request at ${prefix}/switchover (30 s lease)${drill.to ? ` to ${drill.to}` : ': the leader picks its best standby'}` },
    { step: 'measure', touches: `detection (leader key leaves the old primary), promotion (the new leader writable), first write there: polled every 50 ms; writes go on until 100 are acknowledged by the new primary` },
    { step: 'settle', touches: `wait (≤ 3 min) until the old primary streams from the new leader${kill ? ' (its HA loop rejoins it: pg_rewind or a base backup)' : ''}` },
    { step: 'count', touches: 'acknowledged sequence numbers missing on the new primary: acknowledged writes lost' },
    { step: 'teardown', touches: `drop schema bulwark_drill_<run> on the primary${kill ? '; check the old primary is back as a replica' : ''}; the leader stays where the drill moved it` },
    { step: 'grade', touches: `${graded}; the run and its report are recorded in the store (drill_runs)` },
  ];
}
