import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmod, link, lstat, mkdir, readFile, readlink, stat, symlink, truncate, utimes, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newRepo, type RepoFixture } from '../testing/repo-fixture.js';
import { restoreSnapshot } from '../restore/restorer.js';
import { backupPaths, backupStream } from './backup.js';

describe('backup and restore of directories', () => {
  let fx: RepoFixture;
  let src: string;
  beforeEach(async () => {
    fx = await newRepo();
    src = join(fx.dir, 'src');
    await mkdir(join(src, 'sub', 'deeper'), { recursive: true });
  });
  afterEach(() => fx.cleanup());

  it('restores content and metadata: modes, mtimes, owners, symlinks, hard links, empty files, fifos', async () => {
    await writeFile(join(src, 'random.bin'), randomBytes(700_000));
    await writeFile(join(src, 'sub', 'text.txt'), 'line of text\n'.repeat(50_000));
    await writeFile(join(src, 'sub', 'deeper', 'empty'), '');
    await chmod(join(src, 'sub', 'text.txt'), 0o640);
    await symlink('../random.bin', join(src, 'sub', 'link'));
    await link(join(src, 'random.bin'), join(src, 'sub', 'hardlink.bin'));
    execFileSync('mkfifo', [join(src, 'pipe')]);
    await utimes(join(src, 'sub', 'text.txt'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    const result = await backupPaths(fx.repo, [src]);
    expect(result.partial).toBe(false);
    expect(result.snapshot.summary).toMatchObject({ files: 4, skipped: [] });

    const out = join(fx.dir, 'out');
    const summary = await restoreSnapshot(fx.repo, result, { target: out });
    expect(summary.errors).toEqual([]);
    const r = (p: string) => join(out, src, p);
    expect(await readFile(r('random.bin'))).toEqual(await readFile(join(src, 'random.bin')));
    expect(await readFile(r('sub/text.txt'), 'utf8')).toBe('line of text\n'.repeat(50_000));
    expect((await stat(r('sub/text.txt'))).mode & 0o777).toBe(0o640);
    expect((await stat(r('sub/text.txt'))).mtime.toISOString()).toBe('2020-01-02T03:04:05.000Z');
    expect(await readlink(r('sub/link'))).toBe('../random.bin');
    expect((await stat(r('sub/hardlink.bin'))).ino).toBe((await stat(r('random.bin'))).ino);
    expect((await stat(r('sub/deeper/empty'))).size).toBe(0);
    expect((await lstat(r('pipe'))).isFIFO()).toBe(true);
  });

  it('keeps sparse files sparse', async () => {
    const path = join(src, 'sparse.img');
    const handle = await open(path, 'w');
    await handle.write(Buffer.from('start'), 0, 5, 0);
    await handle.close();
    await truncate(path, 8 * 1024 * 1024);
    const result = await backupPaths(fx.repo, [src]);
    const out = join(fx.dir, 'out');
    await restoreSnapshot(fx.repo, result, { target: out });
    const restored = await stat(join(out, path));
    expect(restored.size).toBe(8 * 1024 * 1024);
    expect(restored.blocks * 512).toBeLessThan(1024 * 1024);
    expect(result.snapshot.summary.storedBytes).toBeLessThan(64 * 1024);
  });

  it('deduplicates: an unchanged tree stores nothing, a small change stores little', async () => {
    await writeFile(join(src, 'big.bin'), randomBytes(4_000_000));
    const first = await backupPaths(fx.repo, [src]);
    const again = await backupPaths(fx.repo, [src]);
    expect(again.snapshot.summary).toMatchObject({ addedBytes: 0, unchangedFiles: 1 });
    expect(again.snapshot.parent).toBe(first.id);
    const data = await readFile(join(src, 'big.bin'));
    randomBytes(1000).copy(data, 2_000_000);
    await writeFile(join(src, 'big.bin'), data);
    const changed = await backupPaths(fx.repo, [src]);
    expect(changed.snapshot.summary.addedBytes).toBeGreaterThan(0);
    expect(changed.snapshot.summary.addedBytes).toBeLessThan(600_000);
  });

  it('skips what cannot be read, lists it, and marks the snapshot partial', async () => {
    await writeFile(join(src, 'fine.txt'), 'ok');
    const result = await backupPaths(fx.repo, [src, join(fx.dir, 'does-not-exist')]);
    expect(result.partial).toBe(true);
    expect(result.snapshot.summary.skipped).toEqual([{ path: join(fx.dir, 'does-not-exist'), reason: expect.stringContaining('ENOENT') }]);
  });

  it('honours exclude patterns by name and by absolute path', async () => {
    await writeFile(join(src, 'keep.txt'), 'k');
    await writeFile(join(src, 'drop.log'), 'd');
    await writeFile(join(src, 'sub', 'also.log'), 'd');
    await writeFile(join(src, 'sub', 'deeper', 'x.txt'), 'x');
    const result = await backupPaths(fx.repo, [src], { exclude: ['*.log', `${src}/sub/deeper`] });
    const out = join(fx.dir, 'out');
    await restoreSnapshot(fx.repo, result, { target: out });
    const listing = execFileSync('find', ['.'], { cwd: join(out, src) }).toString().split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['.', './keep.txt', './sub']);
  });

  it('restores only the included paths', async () => {
    await writeFile(join(src, 'a.txt'), 'a');
    await writeFile(join(src, 'sub', 'b.txt'), 'b');
    const result = await backupPaths(fx.repo, [src]);
    const out = join(fx.dir, 'out');
    await restoreSnapshot(fx.repo, result, { target: out, include: [`${src}/sub`] });
    expect(await readFile(join(out, src, 'sub', 'b.txt'), 'utf8')).toBe('b');
    await expect(stat(join(out, src, 'a.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('backs up a stream as one file', async () => {
    const body = Buffer.concat([randomBytes(300_000), Buffer.from('tail')]);
    const result = await backupStream(fx.repo, Readable.from([body.subarray(0, 1000), body.subarray(1000)]), 'dump.sql');
    const out = join(fx.dir, 'out');
    await restoreSnapshot(fx.repo, result, { target: out });
    expect(await readFile(join(out, 'dump.sql'))).toEqual(body);
  });
});
