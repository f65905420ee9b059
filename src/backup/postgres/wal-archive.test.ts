import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  archiveCommand, archiveSegment, DirectoryWalStore, fetchSegment, findWalGaps, pruneWal, restoreCommand,
} from './wal-archive.js';

const execFileAsync = promisify(execFile);
const SEG = '000000010000000000000003';
let dir: string;
let store: DirectoryWalStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-wal-'));
  store = new DirectoryWalStore(join(dir, 'archive'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function walFile(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe('archiveSegment', () => {
  it('stores the file under its name, and again with the same content succeeds', async () => {
    const path = await walFile(SEG, 'segment bytes');
    expect(await archiveSegment(store, path)).toBe('archived');
    expect(await archiveSegment(store, path)).toBe('already-archived');
    expect((await store.get(SEG))?.toString()).toBe('segment bytes');
  });

  it('refuses to overwrite different content under the same name', async () => {
    await archiveSegment(store, await walFile(SEG, 'from cluster A'));
    await rm(join(dir, SEG));
    const other = await walFile(SEG, 'from cluster B');
    await expect(archiveSegment(store, other)).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/already holds a different 0+10+3; refusing/) });
    expect((await store.get(SEG))?.toString()).toBe('from cluster A');
  });

  it('handles history, partial and backup history files', async () => {
    for (const name of ['00000002.history', `${SEG}.partial`, '000000010000000000000002.00000028.backup']) {
      expect(await archiveSegment(store, await walFile(name, name))).toBe('archived');
    }
    expect(await store.list()).toEqual(['000000010000000000000002.00000028.backup', `${SEG}.partial`, '00000002.history']);
  });

  it('refuses files that are not WAL, and says when %p is wrong', async () => {
    await expect(archiveSegment(store, await walFile('postgresql.conf', 'x'))).rejects.toMatchObject({ code: 'USAGE' });
    await expect(archiveSegment(store, join(dir, SEG))).rejects.toMatchObject({ code: 'NOT_FOUND', hint: expect.stringMatching(/%p/) });
  });
});

describe('fetchSegment', () => {
  it('writes the archived file to %p, leaving no temp file', async () => {
    await store.put(SEG, Buffer.from('wal'));
    const target = join(dir, 'RECOVERYXLOG');
    expect(await fetchSegment(store, SEG, target)).toBe('restored');
    expect(await readFile(target, 'utf8')).toBe('wal');
    expect((await readdir(dir)).sort()).toEqual(['RECOVERYXLOG', 'archive']);
  });

  it('reports a missing file as such and writes nothing', async () => {
    expect(await fetchSegment(store, '00000002.history', join(dir, 'RECOVERYHISTORY'))).toBe('missing');
    expect(await readdir(dir)).toEqual([]);
  });
});

/** What PostgreSQL does to archive_command/restore_command before the shell sees it. */
function substitute(command: string, p: string, f: string): string {
  return command.replace(/%([pfr%])/g, (_, c: string) => (c === 'p' ? p : c === 'f' ? f : c === '%' ? '%' : `%${c}`));
}

describe('command strings', () => {
  const echoArgs = [process.execPath, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))'];
  const policy = `it's 100%p "odd" $HOME \`x\``;

  it('survive PostgreSQL substitution and /bin/sh word for word', async () => {
    const archive = substitute(archiveCommand([...echoArgs, 'word with space'], policy), 'pg_wal/000000010000000000000003', SEG);
    const restore = substitute(restoreCommand(echoArgs, policy), 'pg_wal/RECOVERYXLOG', SEG);
    expect(JSON.parse((await execFileAsync('/bin/sh', ['-c', archive])).stdout))
      .toEqual(['word with space', 'wal', 'archive', policy, 'pg_wal/000000010000000000000003']);
    expect(JSON.parse((await execFileAsync('/bin/sh', ['-c', restore])).stdout))
      .toEqual(['wal', 'restore', policy, SEG, 'pg_wal/RECOVERYXLOG']);
  });

  it('leave plain words bare', () => {
    expect(archiveCommand(['/usr/bin/bulwark'], 'main-db')).toBe('/usr/bin/bulwark wal archive main-db %p');
    expect(restoreCommand(['bulwark', '--config', '/etc/bulwark/bulwark.yaml'], 'main-db'))
      .toBe('bulwark --config /etc/bulwark/bulwark.yaml wal restore main-db %f %p');
  });
});

describe('pruneWal and findWalGaps', () => {
  const names = [
    '000000010000000000000001', '000000010000000000000002.00000028.backup', '00000001000000000000000A',
    '00000001000000000000000B.partial', '00000001000000000000000C', '00000002.history',
    '00000002000000000000000B', '00000002000000000000000C', '00000002000000000000000E',
  ];

  beforeEach(async () => {
    for (const name of names) await store.put(name, Buffer.from(name));
  });

  it('removes what sorts before the oldest kept backup, by timeline then position, keeping history', async () => {
    const removed = await pruneWal(store, '00000001000000000000000B');
    expect(removed.sort()).toEqual(['000000010000000000000001', '000000010000000000000002.00000028.backup', '00000001000000000000000A']);
    expect(await store.list()).toEqual(names.filter((n) => !removed.includes(n)));
    expect(await pruneWal(store, '00000002000000000000000B')).toEqual(['00000001000000000000000B.partial', '00000001000000000000000C']);
    expect(await store.list()).toContain('00000002.history');
  });

  it('refuses a keep point that is not a segment', async () => {
    await expect(pruneWal(store, '00000002.history')).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('finds the segments missing after a backup start on each timeline', async () => {
    expect(await findWalGaps(store, '00000001000000000000000A')).toEqual(['00000001000000000000000B', '00000002000000000000000D']);
    expect(await findWalGaps(store, '00000001000000000000000C')).toEqual(['00000002000000000000000D']);
    expect(await findWalGaps(store, '000000010000000000000010')).toEqual(['000000010000000000000010', '00000002000000000000000D']);
  });
});
