import { join } from 'node:path';
import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { restorationPolicies } from './backup-restoration.js';
import { fmt } from './grade.js';
import type { DrillTarget } from './types.js';

/** One step a drill would take, and what it would touch. */
export interface PlannedStep { step: string; touches: string }

/** `--dry-run`: every step of a restoration drill, in order, without opening anything. */
export function planRestoration(config: BulwarkConfig, drill: DrillConfig, drillsDir: string, sandboxRoot: string, target: DrillTarget): PlannedStep[] {
  const steps: PlannedStep[] = [
    { step: 'lock', touches: `${join(drillsDir, 'lock')} (one drill at a time)` },
    { step: 'recover', touches: `${join(drillsDir, 'journal.json')}: revert and record as aborted whatever a crashed drill left` },
  ];
  for (const name of restorationPolicies(config, drill)) {
    const policy = config.backups!.policies[name]!;
    const repo = policy.copies[0]!;
    const sandbox = join(sandboxRoot, `<run>-${name}`);
    steps.push({ step: 'fetch', touches: `repository ${repo}: open it read-only and pick the latest ${policy.source.postgres !== undefined ? 'base backup' : 'snapshot'} of policy ${name}` });
    steps.push({ step: 'restore', touches: `${sandbox} (journalled first): restore into it${policy.source.postgres !== undefined ? ', configure recovery to the end of the archived WAL' : ' and read every file back against its content hashes'}` });
    if (policy.source.postgres !== undefined) {
      steps.push({ step: 'start', touches: `a scratch PostgreSQL on ${sandbox}/data, on a free port of 127.0.0.1 (archive_mode off), replaying WAL from repository ${repo}` });
      steps.push({ step: 'validate', touches: `SQL in database ${drill.validate?.database ?? 'postgres'}: ${[...(drill.validate?.sql ?? []), ...Object.keys(drill.validate?.min_rows ?? {}).map((t) => `count(*) of ${t}`)].join('; ') || 'connect only'}` });
    } else {
      steps.push({ step: 'validate', touches: `${sandbox}: count files and bytes against the snapshot's totals` });
    }
    steps.push({ step: 'teardown', touches: `${policy.source.postgres !== undefined ? 'stop the scratch PostgreSQL, ' : ''}remove ${sandbox}` });
  }
  const graded = target.tier === undefined ? 'no tier: RTO and RPO are measured, not graded' : `against tier ${target.tier} (RTO ${fmt(target.rtoMs!)}, RPO ${fmt(target.rpoMs!)})`;
  steps.push({ step: 'grade', touches: `${graded}; the run and its report are recorded in the store (drill_runs)` });
  return steps;
}
