import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupPaths } from '../archive/backup.js';
import { newRepo, type RepoFixture } from '../testing/repo-fixture.js';
import { walkSnapshot } from './plan.js';
import { restoreSnapshot } from './restorer.js';
import { isSmallFile, planBatches } from './small-files.js';

const DIRS = 8;
const PER_DIR = 80;

describe('restore of many small files', () => {
  let fx: RepoFixture;
  let src: string;
  beforeEach(async () => {
    fx = await newRepo();
    src = join(fx.dir, 'src');
    // 640 files of 4-12 KiB (over the 4 MiB below which restore decodes without workers), one empty.
    for (let d = 0; d < DIRS; d++) {
      await mkdir(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < PER_DIR; f++) await writeFile(join(src, `d${d}`, `f${f}`), randomBytes(4096 + ((d * PER_DIR + f) * 97) % 8192), { mode: f % 2 ? 0o640 : 0o600 });
    }
    await writeFile(join(src, 'd0', 'empty'), '');
    await utimes(join(src, 'd1', 'f1'), new Date('2021-02-03T04:05:06Z'), new Date('2021-02-03T04:05:06Z'));
  });
  afterEach(() => fx.cleanup());

  it('reads them in a few batches and writes each whole, with its mode and mtime', async () => {
    const result = await backupPaths(fx.repo, [src]);
    const index = await fx.repo.loadIndex();
    const nodes = (await walkSnapshot(fx.repo, index, result.snapshot.tree, [])).filter((n) => n.node.type === 'file');
    expect(nodes.every((n) => isSmallFile(n.node, index))).toBe(true);
    const batches = planBatches(index, nodes, '/restore');
    expect(batches.length).toBeLessThan(nodes.length / 20);

    const out = join(fx.dir, 'out');
    const summary = await restoreSnapshot(fx.repo, result, { target: out, workers: 2 });
    expect(summary.errors).toEqual([]);
    expect(summary.files).toBe(DIRS * PER_DIR + 1);
    for (const path of ['d0/f0', 'd3/f41', 'd7/f79', 'd0/empty']) {
      expect(await readFile(join(out, src, path))).toEqual(await readFile(join(src, path)));
      expect((await stat(join(out, src, path))).mode & 0o7777).toBe((await stat(join(src, path))).mode & 0o7777);
    }
    expect((await stat(join(out, src, 'd1/f1'))).mtime.toISOString()).toBe('2021-02-03T04:05:06.000Z');
  });

  it('replaces what is in the way without writing through a symlink; a path it cannot replace fails only itself', async () => {
    const result = await backupPaths(fx.repo, [src]);
    const out = join(fx.dir, 'out');
    const outside = join(fx.dir, 'outside');
    await writeFile(outside, 'not to be touched');
    await mkdir(join(out, src, 'd2'), { recursive: true });
    await symlink(outside, join(out, src, 'd2', 'f5'));
    await writeFile(join(out, src, 'd2', 'f6'), 'old content');
    await mkdir(join(out, src, 'd2', 'f7', 'inside'), { recursive: true });

    const summary = await restoreSnapshot(fx.repo, result, { target: out, workers: 2 });
    expect(await readFile(outside, 'utf8')).toBe('not to be touched');
    expect((await lstat(join(out, src, 'd2', 'f5'))).isFile()).toBe(true);
    expect(await readFile(join(out, src, 'd2', 'f5'))).toEqual(await readFile(join(src, 'd2', 'f5')));
    expect(await readFile(join(out, src, 'd2', 'f6'))).toEqual(await readFile(join(src, 'd2', 'f6')));
    expect(summary.errors.map((e) => e.path)).toEqual([`${src}/d2/f7`]);
    expect(summary.files).toBe(DIRS * PER_DIR);
  });
});
