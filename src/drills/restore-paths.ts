import { mkdir } from 'node:fs/promises';
import { openConfiguredRepo, testRestore, type PolicyConfig, type Repository, type SnapshotRef } from '../backup/index.js';
import { BulwarkError } from '../core/errors.js';
import type { RestoreContext } from './context.js';
import { countTree } from './count.js';
import { withSandbox } from './sandbox.js';
import type { PolicyMeasurement } from './types.js';

/**
 * A files policy: restore its latest snapshot into a sandbox directory, check
 * every file's content against the addresses the snapshot recorded (the
 * backup room's restore test), then count files and bytes on disk against the
 * snapshot's totals. The sandbox is always removed.
 */
export async function drillPathsPolicy(ctx: RestoreContext, name: string, policy: PolicyConfig, m: PolicyMeasurement): Promise<void> {
  const { repo, ref } = await ctx.timeline.step('fetch', name, () => latestSnapshot(ctx, name, policy), (r) => `snapshot ${r.ref.id.slice(0, 8)} of ${r.ref.snapshot.time}`);
  m.snapshot = ref.id;
  m.restorePoint = ref.snapshot.time;
  await withSandbox(ctx, name, async (dir) => {
    await mkdir(dir, { recursive: true });
    const tested = await ctx.timeline.step('restore', name, () => testRestore(repo, ref, { into: dir, signal: ctx.signal }),
      (t) => `${t.files} files, ${t.bytes} bytes restored in ${t.restoreMs} ms; content hashes read back in ${t.verifyMs} ms`);
    m.problems.push(...tested.mismatches.map((x) => `${x.path}: ${x.reason}`));
    const counted = await ctx.timeline.step('validate', name, () => countTree(dir), (c) => `${c.files} files, ${c.bytes} bytes on disk`);
    m.files = counted.files;
    m.bytes = counted.bytes;
    const expected = ref.snapshot.summary;
    if (counted.files !== expected.files) m.problems.push(`${counted.files} files restored, the snapshot recorded ${expected.files}`);
    if (counted.bytes !== expected.bytes) m.problems.push(`${counted.bytes} bytes restored, the snapshot recorded ${expected.bytes}`);
  });
}

async function latestSnapshot(ctx: RestoreContext, name: string, policy: PolicyConfig): Promise<{ repo: Repository; ref: SnapshotRef }> {
  const repo = await openConfiguredRepo(ctx.config.backups!, policy.copies[0]!, { create: false, signal: ctx.signal });
  const ofPolicy = (await repo.listSnapshots(ctx.signal)).filter((s) => s.snapshot.source.policy === name || s.snapshot.tags.includes(`policy:${name}`));
  const ref = ofPolicy.at(-1);
  if (!ref) throw new BulwarkError('NOT_FOUND', `policy ${name} has no snapshot in repository ${policy.copies[0]!}`, { hint: `run \`bulwark backup run -c bulwark.yaml --policy ${name}\` first` });
  return { repo, ref };
}
