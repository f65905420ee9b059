import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend } from '../backend/local.js';
import { backupPaths } from '../archive/backup.js';
import { RepoLock, removeStaleLocks } from '../repo/lock.js';
import { Repository } from '../repo/repository.js';
import { restoreSnapshot } from '../restore/restorer.js';
import { newRepo, TEST_PASSWORD, type RepoFixture } from '../testing/repo-fixture.js';
import { checkRepository } from './check.js';
import { copySnapshots } from './copy.js';
import { pruneRepository } from './prune.js';

describe('check, prune, copy and locks', () => {
  let fx: RepoFixture;
  let src: string;
  beforeEach(async () => {
    fx = await newRepo();
    src = join(fx.dir, 'src');
    await mkdir(src, { recursive: true });
  });
  afterEach(() => fx.cleanup());

  it('check --read-data finds a flipped byte and names the snapshot and file it damages', async () => {
    await writeFile(join(src, 'victim.bin'), randomBytes(200_000));
    await writeFile(join(src, 'bystander.txt'), 'fine');
    const snap = await backupPaths(fx.repo, [src]);
    expect((await checkRepository(fx.repo, { readData: true })).ok).toBe(true);
    const index = await fx.repo.loadIndex();
    const tree = await fx.repo.loadTree(index, snap.snapshot.tree);
    const victimBlob = await findContent(fx.repo, index, tree, 'victim.bin');
    const at = index.get(victimBlob)!;
    const packPath = join(fx.repoDir, 'data', at.pack.slice(0, 2), at.pack);
    const bytes = await readFile(packPath);
    bytes[at.offset + 40] = bytes[at.offset + 40]! ^ 0xff;
    await writeFile(packPath, bytes);

    const structural = await checkRepository(fx.repo);
    expect(structural.ok).toBe(true); // structure alone cannot see it: that is what --read-data is for
    const report = await checkRepository(fx.repo, { readData: true });
    expect(report.ok).toBe(false);
    expect(report.damagedBlobs).toContain(victimBlob);
    expect(report.affected).toEqual([{ snapshot: snap.id, time: snap.snapshot.time, paths: [`${src}/victim.bin`] }]);
  });

  it('prune frees the data of forgotten snapshots and keeps what others share', async () => {
    await writeFile(join(src, 'shared.bin'), randomBytes(300_000));
    await writeFile(join(src, 'only-first.bin'), randomBytes(300_000));
    const first = await backupPaths(fx.repo, [src]);
    await writeFile(join(src, 'only-first.bin'), randomBytes(10));
    const second = await backupPaths(fx.repo, [src]);
    await fx.repo.backend.remove('snapshots', first.id);
    const report = await pruneRepository(fx.repo, { repackThreshold: 0.01 });
    expect(report.deferred).toBeUndefined();
    expect(report.bytesFreed + report.packsRepacked).toBeGreaterThan(0);
    const check = await checkRepository(fx.repo, { readData: true });
    expect(check).toMatchObject({ ok: true, unreferencedPacks: [] });
    const out = join(fx.dir, 'out');
    await restoreSnapshot(fx.repo, second, { target: out });
    expect(await readFile(join(out, src, 'shared.bin'))).toEqual(await readFile(join(src, 'shared.bin')));
    const dataFiles = (await readdir(join(fx.repoDir, 'data'), { recursive: true })).filter((f) => f.includes('/'));
    expect(dataFiles.length).toBeGreaterThan(0);
  });

  it('prune defers its delete phase while a backup holds the repository, and loses nothing', async () => {
    await writeFile(join(src, 'a.bin'), randomBytes(100_000));
    const first = await backupPaths(fx.repo, [src]);
    await fx.repo.backend.remove('snapshots', first.id);
    const running = await RepoLock.acquire(fx.repo, { exclusive: false, operation: 'backup' });
    const report = await pruneRepository(fx.repo, { lockWaitMs: 300 });
    expect(report.deferred).toMatch(/locked by backup/);
    await running.release();
    expect((await pruneRepository(fx.repo)).packsDeleted).toBeGreaterThan(0);
  });

  it('a lock left by a dead process is stale and cleared; a live one is obeyed', async () => {
    const live = await RepoLock.acquire(fx.repo, { exclusive: true, operation: 'prune (delete)' });
    await expect(RepoLock.acquire(fx.repo, { exclusive: false, operation: 'backup', waitMs: 200 })).rejects.toMatchObject({ code: 'REPO_LOCKED', message: expect.stringContaining(`pid ${process.pid}`) });
    await live.release();
    await fx.repo.saveFile('locks', { version: 1, hostname: (await import('node:os')).hostname(), pid: 2 ** 22 - 3, exclusive: true, operation: 'backup', time: new Date().toISOString(), expires: new Date(Date.now() + 3_600_000).toISOString() });
    expect(await removeStaleLocks(fx.repo)).toBe(1);
    const lock = await RepoLock.acquire(fx.repo, { exclusive: true, operation: 'prune' });
    await lock.release();
  });

  it('copies snapshots to a repository sharing the content key, moving only missing data', async () => {
    await writeFile(join(src, 'a.bin'), randomBytes(400_000));
    const snap = await backupPaths(fx.repo, [src]);
    const destBackend = new LocalBackend(join(fx.dir, 'copy'));
    const dest = await Repository.init(destBackend, 'other password', { copyFrom: fx.repo });
    const report = await copySnapshots(fx.repo, dest, {});
    expect(report.copied).toHaveLength(1);
    expect((await copySnapshots(fx.repo, dest, {})).alreadyThere).toBe(1);
    const copied = await dest.findSnapshot('latest');
    expect(copied.snapshot.original).toBe(snap.id);
    const out = join(fx.dir, 'out');
    await restoreSnapshot(dest, copied, { target: out });
    expect(await readFile(join(out, src, 'a.bin'))).toEqual(await readFile(join(src, 'a.bin')));
    expect((await checkRepository(dest, { readData: true })).ok).toBe(true);
    const unrelated = await Repository.init(new LocalBackend(join(fx.dir, 'unrelated')), TEST_PASSWORD);
    await expect(copySnapshots(fx.repo, unrelated)).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('content key') });
  });
});

async function findContent(repo: Repository, index: Awaited<ReturnType<Repository['loadIndex']>>, tree: { nodes: Array<{ name: string; content?: string[]; subtree?: string }> }, name: string): Promise<string> {
  for (const node of tree.nodes) {
    if (node.name === name) return node.content![0]!;
    if (node.subtree) {
      const found = await findContent(repo, index, await repo.loadTree(index, node.subtree), name).catch(() => undefined);
      if (found) return found;
    }
  }
  throw new Error(`${name} not found`);
}
