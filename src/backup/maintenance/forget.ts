import { applyRetention, type RetentionPolicy } from '../retention/index.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';
import { checkSelection, groupSnapshots, selects, type GroupSelection, type SnapshotGroup } from './groups.js';

export interface ForgetOptions {
  /** Which groups to act on; required, so that no call can judge one policy's snapshots by another's rules. */
  select: GroupSelection;
  dryRun?: boolean;
  now?: Date;
  timeZone?: string;
  signal?: AbortSignal;
  lockWaitMs?: number;
}

export interface ForgetGroup {
  key: string;
  group: SnapshotGroup;
  keep: Array<{ id: string; time: string; reasons: string[] }>;
  remove: Array<{ id: string; time: string }>;
}

/**
 * Applies a retention policy to each selected group of snapshots (see
 * groups.ts) and removes what it does not keep. Groups outside the selection
 * are not even judged. Data goes only with a later prune.
 */
export async function forgetSnapshots(repo: Repository, policy: RetentionPolicy, options: ForgetOptions): Promise<ForgetGroup[]> {
  checkSelection(options.select);
  // Removing snapshot files never breaks a running backup or prune (prune re-reads the list under its exclusive lock), so a shared lock is enough.
  return withLock(repo, { exclusive: false, operation: 'forget', waitMs: options.lockWaitMs, signal: options.signal }, async () => {
    const plan = planForget(await repo.listSnapshots(options.signal), policy, options);
    if (!options.dryRun) for (const g of plan) for (const s of g.remove) await repo.backend.remove('snapshots', s.id, options.signal);
    return plan;
  });
}

/** What forget would keep and remove, group by group. Pure. */
export function planForget(snapshots: readonly SnapshotRef[], policy: RetentionPolicy, options: Pick<ForgetOptions, 'select' | 'now' | 'timeZone'>): ForgetGroup[] {
  checkSelection(options.select);
  const out: ForgetGroup[] = [];
  for (const [key, { group, snapshots: members }] of groupSnapshots(snapshots)) {
    if (!selects(options.select, group)) continue;
    const result = applyRetention(members.map((s) => ({ ...s, time: new Date(s.snapshot.time) })), policy, { now: options.now ?? new Date(), timeZone: options.timeZone });
    out.push({
      key,
      group,
      keep: result.keep.map((k) => ({ id: k.snapshot.id, time: k.snapshot.snapshot.time, reasons: k.reasons })),
      remove: result.remove.map((s) => ({ id: s.id, time: s.snapshot.time })),
    });
  }
  return out;
}

export { groupSnapshots, groupOf, policyOf, type GroupSelection, type SnapshotGroup } from './groups.js';
