import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { backendContract } from '../testing/contract.js';
import { LocalBackend } from './local.js';

const execFileAsync = promisify(execFile);
const dirs: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-local-'));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

backendContract('local', async () => new LocalBackend(join(await tempDir(), 'repo')));

describe('LocalBackend', () => {
  it('lays files out like restic, data sharded by the first two characters', async () => {
    const dir = await tempDir();
    const backend = new LocalBackend(dir);
    await backend.create();
    await backend.write('config', 'config', Buffer.from('c'));
    await backend.write('data', 'c0ffee', Buffer.from('d'));
    await backend.write('snapshots', 'abc', Buffer.from('s'));
    expect((await readdir(dir)).sort()).toEqual(['config', 'data', 'index', 'keys', 'locks', 'snapshots', 'wal']);
    expect(await readdir(join(dir, 'data', 'c0'))).toEqual(['c0ffee']);
    expect(await readdir(join(dir, 'snapshots'))).toEqual(['abc']);
    expect(backend.location).toBe(`local:${dir}`);
  });

  it('never lists the temp file of a writer that died, and cleans it up when stale', async () => {
    const dir = await tempDir();
    const backend = new LocalBackend(dir);
    await backend.create();
    await backend.write('data', 'ab01', Buffer.from('whole'));
    // What a writer killed before its rename leaves behind.
    await writeFile(join(dir, 'data', 'ab', '.tmp-0123456789abcdef'), 'partial');
    await writeFile(join(dir, 'index', '.tmp-fresh'), 'partial');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(dir, 'data', 'ab', '.tmp-0123456789abcdef'), old, old);
    expect(await backend.list('data')).toEqual([{ kind: 'data', name: 'ab01', size: 5 }]);
    expect(await backend.list('index')).toEqual([]);
    expect(await backend.removeStaleTempFiles(600_000)).toBe(1);
    expect(await readdir(join(dir, 'data', 'ab'))).toEqual(['ab01']);
    expect(await readdir(join(dir, 'index'))).toEqual(['.tmp-fresh']);
  });

  it('writes files readable by the owner only', async () => {
    const dir = await tempDir();
    const backend = new LocalBackend(dir);
    await backend.create();
    await backend.write('keys', 'k', Buffer.from('secret'));
    expect((await stat(join(dir, 'keys', 'k'))).mode & 0o777).toBe(0o600);
  });

  it('answers NOT_FOUND when writing to a repository that was never created', async () => {
    const backend = new LocalBackend(join(await tempDir(), 'missing'));
    await expect(backend.write('data', 'ab01', Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(backend.write('keys', 'k', Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await backend.list('data')).toEqual([]);
  });

  it('reports a folder in the way clearly', async () => {
    const dir = await tempDir();
    const backend = new LocalBackend(dir);
    await backend.create();
    await mkdir(join(dir, 'keys', 'k'));
    const err = await backend.write('keys', 'k', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(await readdir(join(dir, 'keys'))).toEqual(['k']);
  });

  describe('on a full disk', () => {
    let mounted: string | undefined;

    afterAll(async () => {
      if (mounted) await execFileAsync('umount', [mounted]).catch(() => undefined);
    });

    it('throws DISK_FULL and leaves no partial file', async (ctx) => {
      const dir = await tempDir();
      try {
        await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
        mounted = dir;
      } catch {
        ctx.skip(); // needs root and a kernel that allows mounts here
      }
      const backend = new LocalBackend(dir);
      await backend.create();
      const err = await backend.write('data', 'ab01', Buffer.alloc(2 * 1024 * 1024, 1)).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'BulwarkError', code: 'DISK_FULL' });
      expect((err as { hint?: string }).hint).toMatch(/free space|another/);
      expect(await readdir(join(dir, 'data', 'ab'))).toEqual([]);
      expect(await backend.list('data')).toEqual([]);
      await backend.write('data', 'ab02', Buffer.from('small still fits'));
      expect(await backend.read('data', 'ab02')).toEqual(Buffer.from('small still fits'));
    });
  });
});
