import { BulwarkError } from '../../core/errors.js';
import type { Snapshot, SnapshotRef } from '../repo/types.js';

/**
 * Which snapshots retention may judge together. A snapshot made by a policy
 * belongs to that policy's group; any other (an ad-hoc `backup run`) to the
 * group of its host and paths, as restic groups them. Retention never looks
 * across groups: one policy's `keep_last: 1` must not delete another's history.
 */
export type SnapshotGroup = { kind: 'policy'; policy: string } | { kind: 'paths'; host: string; paths: string[] };

/** What `forget` was asked to act on: nothing is implied, so a missing selection is refused. */
export type GroupSelection =
  | { policy: string }
  | { host?: string; paths?: string[] }
  | { allGroups: true };

const POLICY_TAG = 'policy:';

/** The policy that made the snapshot: recorded in its source, or (snapshots of older versions) in its `policy:` tag. */
export function policyOf(snapshot: Snapshot): string | undefined {
  return snapshot.source.policy ?? snapshot.tags.find((t) => t.startsWith(POLICY_TAG))?.slice(POLICY_TAG.length);
}

export function groupOf(snapshot: Snapshot): SnapshotGroup {
  const policy = policyOf(snapshot);
  if (policy) return { kind: 'policy', policy };
  return { kind: 'paths', host: snapshot.hostname, paths: [...snapshot.paths].sort() };
}

export function groupKey(group: SnapshotGroup): string {
  return group.kind === 'policy' ? `policy ${group.policy}` : `host ${group.host} paths ${group.paths.join(',')}`;
}

export function groupSnapshots(snapshots: readonly SnapshotRef[]): Map<string, { group: SnapshotGroup; snapshots: SnapshotRef[] }> {
  const groups = new Map<string, { group: SnapshotGroup; snapshots: SnapshotRef[] }>();
  for (const s of snapshots) {
    const group = groupOf(s.snapshot);
    const key = groupKey(group);
    let entry = groups.get(key);
    if (!entry) groups.set(key, (entry = { group, snapshots: [] }));
    entry.snapshots.push(s);
  }
  return groups;
}

export function checkSelection(selection: GroupSelection | undefined): asserts selection is GroupSelection {
  const empty = !selection || (!('policy' in selection) && !('allGroups' in selection) && !selection.host && !selection.paths?.length);
  if (empty) {
    throw new BulwarkError('USAGE', 'forget needs to know which snapshots the retention rules apply to', {
      hint: 'choose a group: --policy NAME (snapshots made by that backup policy), --host H and/or --path P (ad-hoc snapshots), '
        + 'or --all-groups to apply the same rules to every group separately; `bulwark backup forget --dry-run --all-groups` lists the groups',
    });
  }
}

/** Whether a group is one the selection names. Paths must match as a set, as restic's --path does. */
export function selects(selection: GroupSelection, group: SnapshotGroup): boolean {
  if ('allGroups' in selection) return true;
  if ('policy' in selection) return group.kind === 'policy' && group.policy === selection.policy;
  if (group.kind !== 'paths') return false;
  if (selection.host && selection.host !== group.host) return false;
  if (selection.paths?.length) {
    const wanted = [...selection.paths].sort();
    return wanted.length === group.paths.length && wanted.every((p, i) => p === group.paths[i]);
  }
  return true;
}
