import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupPaths } from '../../src/backup/archive/backup.js';
import { Harness } from '../daemon/helpers.js';
import { manifest, mutateData, openRepo, PASSWORD, randomDelay, verifyRepo, type Manifest } from './crash-helpers.js';

/**
 * SIGKILL at random points of backup, copy and prune. After every kill the
 * repository must pass check --read-data, every snapshot reported complete
 * must restore byte for byte, and the next run must go on from there.
 */
const TRIALS = { backup: 24, copy: 14, prune: 14 };
const env = { BULWARK_BACKUP_PASSWORD: PASSWORD };

describe('crash safety under SIGKILL', () => {
  const h = new Harness();
  let dir: string;
  let data: string;
  let repoDir: string;
  const reported = new Map<string, Manifest>();
  let kills = 0;
  let midWrite = 0;

  beforeAll(async () => {
    dir = await h.tempDir();
    data = join(dir, 'data');
    repoDir = join(dir, 'repo');
    await mutateData(data, 0);
    const init = await h.run(['backup', 'init', '-r', repoDir], env);
    expect(init.code, init.stderr).toBe(0);
  }, 60_000);
  afterAll(() => h.cleanup());

  /**
   * Runs the command and SIGKILLs it: on even rounds after a random delay
   * (anywhere, start-up included), on odd rounds a few milliseconds after the
   * repository's data folder first changes (packs written or deleted, nothing
   * final yet: the interesting moment). Returns its JSON output if it finished first.
   */
  async function runOrKill(args: string[], round: number, watchDir: string, maxDelayMs: number): Promise<unknown | undefined> {
    const proc = h.spawn([...args, '--json'], env);
    const done = proc.exited.then(() => undefined);
    const trigger = round % 2 === 0 ? sleep(randomDelay(maxDelayMs)) : dataChanged(watchDir, done).then(() => sleep(randomDelay(60)));
    void trigger.then(() => proc.child.kill('SIGKILL'));
    const { code, signal } = await proc.exited;
    if (signal === 'SIGKILL') {
      kills++;
      return undefined;
    }
    expect(code, proc.stderr()).toBe(0);
    return JSON.parse(proc.stdout());
  }

  it(`backup: ${TRIALS.backup} trials`, async () => {
    for (let round = 1; round <= TRIALS.backup; round++) {
      await mutateData(data, round);
      const files = await manifest(data);
      const packsBefore = await countPacks(repoDir);
      const out = (await runOrKill(['backup', 'run', '-r', repoDir, data, '--pack-size', '256KiB'], round, repoDir, 2_500)) as { id: string } | undefined;
      if (out) reported.set(out.id, files);
      else if ((await countPacks(repoDir)) > packsBefore) midWrite++;
      await verifyRepo(repoDir, out ? new Map([[out.id, files]]) : new Map(), dir);
    }
    await verifyRepo(repoDir, reported, dir);
    expect(reported.size).toBeGreaterThan(0);
    console.log(`backup trials: ${TRIALS.backup}, killed ${kills} (${midWrite} after writing packs), completed ${reported.size}`);
    // The interesting kills land after some packs are written and before the snapshot is.
    expect(midWrite).toBeGreaterThanOrEqual(3);
  }, 600_000);

  it(`copy: ${TRIALS.copy} trials, each resuming the last`, async () => {
    const copyDir = join(dir, 'copy');
    const init = await h.run(['backup', 'init', '-r', copyDir, '--copy-from', repoDir], env);
    expect(init.code, init.stderr).toBe(0);
    let finished = 0;
    for (let round = 1; round <= TRIALS.copy; round++) {
      const out = await runOrKill(['backup', 'copy', '-r', repoDir, '--to-repo', copyDir], round, copyDir, 2_000);
      if (out) finished++;
      await verifyRepo(copyDir, new Map(), dir);
    }
    const last = (await h.run(['backup', 'copy', '-r', repoDir, '--to-repo', copyDir, '--json'], env, 120_000));
    expect(last.code, last.stderr).toBe(0);
    const copies = await (await openRepo(copyDir)).listSnapshots();
    const byOriginal = new Map(copies.map((c) => [c.snapshot.original!, c.id]));
    await verifyRepo(copyDir, new Map([...reported].map(([id, files]) => [byOriginal.get(id)!, files])), dir);
    expect(finished + 1).toBeGreaterThan(0);
  }, 600_000);

  it(`prune: ${TRIALS.prune} trials with new garbage each time`, async () => {
    const repo = await openRepo(repoDir);
    for (let round = 1; round <= TRIALS.prune; round++) {
      await mutateData(data, 100 + round);
      const files = await manifest(data);
      const snap = await backupPaths(repo, [data], { packSize: 256 * 1024 });
      reported.set(snap.id, files);
      const oldest = [...reported.keys()][0]!;
      await repo.backend.remove('snapshots', oldest);
      reported.delete(oldest);
      await runOrKill(['backup', 'prune', '-r', repoDir, '--repack-threshold', '5%'], round, repoDir, 1_500);
      await verifyRepo(repoDir, new Map([[snap.id, files]]), dir);
    }
    await verifyRepo(repoDir, reported, dir);
    const final = await h.run(['backup', 'prune', '-r', repoDir, '--json'], env, 120_000);
    expect(final.code, final.stderr).toBe(0);
    await verifyRepo(repoDir, reported, dir);
    // The point is killing mid-way: a good share of the trials must have been killed (about 20 of 52 are, typically).
    console.log(`all trials: ${TRIALS.backup + TRIALS.copy + TRIALS.prune}, killed ${kills}`);
    expect(kills).toBeGreaterThanOrEqual(10);
  }, 600_000);

});

/** Resolves when the set of pack files under repoDir/data changes, or when `until` settles. */
async function dataChanged(repoDir: string, until: Promise<undefined>): Promise<void> {
  let finished = false;
  void until.then(() => (finished = true));
  const listing = async () => (await readdir(join(repoDir, 'data'), { recursive: true }).catch(() => [])).sort().join();
  const before = await listing();
  while (!finished && (await listing()) === before) await sleep(15);
}

async function countPacks(repoDir: string): Promise<number> {
  return (await readdir(join(repoDir, 'data'), { recursive: true })).filter((f) => f.includes('/')).length;
}
