import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import type { RestoreContext } from './context.js';
import { graded } from './grade.js';
import { drillPathsPolicy } from './restore-paths.js';
import { drillPostgresPolicy } from './restore-postgres.js';
import type { DrillTarget, PolicyMeasurement } from './types.js';

/** The policies a restoration drill restores: its `policy`, or every policy. */
export function restorationPolicies(config: BulwarkConfig, drill: DrillConfig): string[] {
  const all = Object.keys(config.backups?.policies ?? {});
  if (drill.policy === undefined) return all;
  if (!all.includes(drill.policy)) throw new BulwarkError('CONFIG_INVALID', `dr_testing names policy "${drill.policy}", which backups.policies does not have`, { hint: `known: ${all.join(', ') || 'none'}` });
  return [drill.policy];
}

/** Restores each policy in turn; a policy that cannot be restored is a finding, not the end of the drill. */
export async function runBackupRestoration(ctx: RestoreContext, target: DrillTarget): Promise<PolicyMeasurement[]> {
  const out: PolicyMeasurement[] = [];
  for (const name of restorationPolicies(ctx.config, ctx.drill)) out.push(await restoreOne(ctx, name, target));
  return out;
}

async function restoreOne(ctx: RestoreContext, name: string, target: DrillTarget): Promise<PolicyMeasurement> {
  const policy = ctx.config.backups!.policies[name]!;
  const source = policy.source.postgres !== undefined ? 'postgres' : 'paths';
  const m: PolicyMeasurement = { policy: name, source, repository: policy.copies[0]!, phasesMs: {}, problems: [], passed: false };
  let restored = false;
  try {
    await (source === 'postgres' ? drillPostgresPolicy : drillPathsPolicy)(ctx, name, policy, m);
    restored = true;
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    m.problems.push(`could not restore: ${err instanceof BulwarkError ? err.describe() : errorMessage(err)}`);
  }
  for (const phase of ['fetch', 'restore', 'start', 'validate', 'teardown'] as const) {
    const ms = ctx.timeline.sum(name, [phase]);
    if (ctx.timeline.steps.some((s) => s.subject === name && s.step === phase)) m.phasesMs[phase] = ms;
  }
  if (restored) m.rto = graded(ctx.timeline.sum(name, ['fetch', 'restore', 'start', 'validate']), target.rtoMs);
  if (m.restorePoint !== undefined) m.rpo = graded(Math.max(0, ctx.startedAt - Date.parse(m.restorePoint)), target.rpoMs);
  m.passed = restored && m.problems.length === 0 && m.rto?.passed !== false && m.rpo?.passed !== false;
  return m;
}
