import { applyRetention, type RetentionPolicy } from '../retention/index.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';

export interface ForgetOptions { dryRun?: boolean; now?: Date; timeZone?: string; signal?: AbortSignal; lockWaitMs?: number }

export interface ForgetGroup { key: string; keep: Array<{ id: string; time: string; reasons: string[] }>; remove: Array<{ id: string; time: string }> }

/** Applies a retention policy to each group of snapshots (same policy, or same host and paths) and removes the rest. */
export async function forgetSnapshots(repo: Repository, policy: RetentionPolicy, options: ForgetOptions = {}): Promise<ForgetGroup[]> {
  // Removing snapshot files never breaks a running backup or prune (prune re-reads the list under its exclusive lock), so a shared lock is enough.
  return withLock(repo, { exclusive: false, operation: 'forget', waitMs: options.lockWaitMs, signal: options.signal }, async () => {
    const groups = groupSnapshots(await repo.listSnapshots(options.signal));
    const out: ForgetGroup[] = [];
    for (const [key, snapshots] of groups) {
      const result = applyRetention(snapshots.map((s) => ({ ...s, time: new Date(s.snapshot.time) })), policy, { now: options.now ?? new Date(), timeZone: options.timeZone });
      out.push({
        key,
        keep: result.keep.map((k) => ({ id: k.snapshot.id, time: k.snapshot.snapshot.time, reasons: k.reasons })),
        remove: result.remove.map((s) => ({ id: s.id, time: s.snapshot.time })),
      });
      if (!options.dryRun) for (const s of result.remove) await repo.backend.remove('snapshots', s.id, options.signal);
    }
    return out;
  });
}

export function groupSnapshots(snapshots: SnapshotRef[]): Map<string, SnapshotRef[]> {
  const groups = new Map<string, SnapshotRef[]>();
  for (const s of snapshots) {
    const key = s.snapshot.source.policy ? `policy ${s.snapshot.source.policy}` : `${s.snapshot.hostname} ${s.snapshot.paths.join(',')}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return groups;
}
