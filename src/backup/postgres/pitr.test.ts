/**
 * Point-in-time recovery against real PostgreSQL servers, under write load.
 *
 * WAL goes through the real code on both sides: archive_command and
 * restore_command are built by archiveCommand()/restoreCommand() and run
 * testing/wal-cli.ts (archiveSegment/fetchSegment over a DirectoryWalStore)
 * with tsx. The archive folder's name has a space, a quote and a percent sign
 * to prove the quoting. All recoveries start together once the WAL is archived.
 */
import { chown, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { sleep } from '../../core/time.js';
import { freePort } from '../../testing/net.js';
import { runAsUser, type RunAs } from '../../testing/run-as.js';
import { takeBaseBackup, waitForWalArchived, type BaseBackupInfo } from './base-backup.js';
import { checkTargetAfterBackup, prepareRecovery, startAndAwaitRecovery, type RecoveryResult, type RecoveryTarget } from './recovery.js';
import { startArchivingPrimary, SUPERUSER, type ArchivingPrimary } from './testing/archiving-primary.js';
import { Writer, type Mark } from './testing/writer.js';
import { archiveCommand, DirectoryWalStore, findWalGaps, restoreCommand } from './wal-archive.js';
import { parseLsn, walFileNameBefore, walFileNameOf } from './wal-names.js';

const CLI_PREFIX = [process.execPath, '--import', createRequire(import.meta.url).resolve('tsx'),
  fileURLToPath(new URL('./testing/wal-cli.ts', import.meta.url))];

interface Restored {
  result: RecoveryResult;
  rows: { seq: number; at: Date }[];
}
type Outcome = { ok: true; value: Restored } | { ok: false; error: unknown };

let dir: string;
let runAs: RunAs | undefined;
let primary: ArchivingPrimary | undefined;
let archiveDir: string;
let backupDir: string;
let backup: BaseBackupInfo;
let lsnMark: Mark;
let timeMark: Mark;
let finalSeq: number;
let writer: Writer | undefined;
let gapSegment: string;
const progress: number[] = [];
const outcomes = new Map<string, Promise<Outcome>>();

async function ownedDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  if (runAs) await chown(path, runAs.uid, runAs.gid);
  return path;
}

async function readRows(socketDir: string, port: number): Promise<Restored['rows']> {
  const client = new pg.Client({ host: socketDir, port, user: SUPERUSER, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query<{ seq: number; at: Date }>('SELECT seq, at FROM t ORDER BY seq')).rows;
  } finally {
    await client.end();
  }
}

async function restore(name: string, target: RecoveryTarget, options: { inclusive?: boolean; walDir?: string } = {}): Promise<Restored> {
  const dataDir = join(dir, `restore-${name}`);
  await cp(backupDir, dataDir, { recursive: true });
  await prepareRecovery({ dataDir, target, restoreCommand: restoreCommand(CLI_PREFIX, options.walDir ?? archiveDir), inclusive: options.inclusive });
  const server = await startAndAwaitRecovery({ dataDir, port: await freePort(), user: SUPERUSER, timeoutMs: 45_000 });
  try {
    return { result: server.result, rows: await readRows(server.socketDir, server.port) };
  } finally {
    await server.stop();
  }
}

function start(name: string, target: RecoveryTarget, options?: { inclusive?: boolean; walDir?: string }): void {
  outcomes.set(name, restore(name, target, options).then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error })));
}

async function restored(name: string): Promise<Restored> {
  const outcome = await outcomes.get(name);
  if (!outcome) throw new Error(`no recovery ${name}`);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

async function failure(name: string): Promise<BulwarkError> {
  const outcome = await outcomes.get(name);
  if (!outcome || outcome.ok) throw new Error(`recovery ${name} was expected to fail`);
  expect(outcome.error).toBeInstanceOf(BulwarkError);
  return outcome.error as BulwarkError;
}

async function switchAndAwaitArchive(store: DirectoryWalStore): Promise<void> {
  const client = new pg.Client({ connectionString: live().url });
  await client.connect();
  const end = (await client.query<{ lsn: string }>('SELECT pg_switch_wal()::text AS lsn')).rows[0]?.lsn ?? '0/0';
  await client.end();
  const last = walFileNameBefore(backup.timeline, end, backup.walSegmentSize);
  for (let i = 0; i < 200 && !(await store.list()).includes(last); i++) await sleep(100);
}

async function archiveWithout(name: string, missing: string): Promise<string> {
  const copy = await ownedDir(join(dir, `archive-${name}`));
  for (const file of await readdir(archiveDir)) {
    if (file === missing) continue;
    await cp(join(archiveDir, file), join(copy, file));
    if (runAs) await chown(join(copy, file), runAs.uid, runAs.gid);
  }
  return copy;
}

function live(): ArchivingPrimary {
  if (!primary) throw new Error('the primary did not start');
  return primary;
}

function seqs(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

beforeAll(async () => {
  runAs = await runAsUser();
  dir = await ownedDir(await mkdtemp(join(tmpdir(), 'bulwark-pitr-')));
  archiveDir = await ownedDir(join(dir, "wal archive 100%'s"));
  const store = new DirectoryWalStore(archiveDir);
  primary = await startArchivingPrimary(dir, archiveCommand(CLI_PREFIX, archiveDir), runAs);
  writer = new Writer(primary.url);
  await writer.start();
  await sleep(300);
  backupDir = join(dir, 'base');
  const taken = await takeBaseBackup({
    connection: primary.connection, targetDir: backupDir, binDir: primary.binDir, onProgress: (p) => progress.push(p.percent),
  });
  backup = await waitForWalArchived({ store, backup: taken, connection: primary.connection, timeoutMs: 20_000 });
  await sleep(1000);
  lsnMark = await writer.mark();
  await sleep(500);
  timeMark = await writer.mark();
  await sleep(500);
  finalSeq = await writer.stop();
  await switchAndAwaitArchive(store);

  start('time', { kind: 'time', time: timeMark.time });
  start('lsn', { kind: 'lsn', lsn: lsnMark.lsn }, { inclusive: false });
  start('latest', { kind: 'latest' });
  start('before-backup-end', { kind: 'time', time: backup.startTime });
  start('missing-backup-wal', { kind: 'latest' }, { walDir: await archiveWithout('no-stop', backup.stopWalFile) });
  gapSegment = walFileNameOf(backup.timeline, lsnMark.lsn, backup.walSegmentSize);
  start('gap-before-target', { kind: 'time', time: timeMark.time }, { walDir: await archiveWithout('gap', gapSegment) });
  // A "folder" that is a file: every read fails with ENOTDIR, whoever runs the command.
  await writeFile(join(dir, 'not-a-folder'), '');
  start('archive-unreadable', { kind: 'latest' }, { walDir: join(dir, 'not-a-folder') });
}, 90_000);

afterAll(async () => {
  await writer?.stop().catch(() => undefined);
  await Promise.all(outcomes.values());
  await primary?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('base backup', () => {
  it('describes the backup and leaves it restorable', () => {
    expect(backup.startWalFile).toMatch(/^00000001[0-9A-F]{16}$/);
    expect(parseLsn(backup.stopLsn)).toBeGreaterThan(parseLsn(backup.startLsn));
    expect(backup.stopTime.getTime()).toBeGreaterThanOrEqual(backup.startTime.getTime());
    expect(backup.pgVersion).toMatch(/^\d+$/);
    expect(backup.systemIdentifier).toMatch(/^\d{10,}$/);
    expect(progress[progress.length - 1]).toBe(100);
    // Taken from the archived backup history file: whole seconds.
    expect(backup.stopTime.getMilliseconds()).toBe(0);
  });

  it('archived every WAL file through archive_command without a failure', async () => {
    const names = await readdir(archiveDir);
    expect(names).toContain(backup.stopWalFile);
    expect(names).toContain(backup.backupHistoryFile);
    const client = new pg.Client({ connectionString: live().url });
    await client.connect();
    const row = (await client.query<{ failed: string }>('SELECT failed_count::text AS failed FROM pg_stat_archiver')).rows[0];
    await client.end();
    const failures = live().log().split('\n').filter((line) => !/^\d{4}-/.test(line) || /archive command failed/.test(line));
    expect(row?.failed, failures.join('\n')).toBe('0');
    expect(await findWalGaps(new DirectoryWalStore(archiveDir), backup.startWalFile, backup.walSegmentSize)).toEqual([]);
    expect(await findWalGaps(new DirectoryWalStore(join(dir, 'archive-gap')), backup.startWalFile, backup.walSegmentSize)).toEqual([gapSegment]);
  });

  it('refuses a target directory that is not empty', async () => {
    await expect(takeBaseBackup({ connection: live().connection, targetDir: backupDir, binDir: live().binDir }))
      .rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/exists but is not empty/) });
  });

  it('stops when aborted and removes what it wrote', async () => {
    const controller = new AbortController();
    const targetDir = join(dir, 'aborted');
    const taking = takeBaseBackup({ connection: live().connection, targetDir, binDir: live().binDir,
      signal: controller.signal, onProgress: () => controller.abort(new Error('stop now')) });
    await expect(taking).rejects.toThrow('stop now');
    await expect(readdir(targetDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails clearly when the WAL never reaches the store', async () => {
    const empty = new DirectoryWalStore(join(dir, 'never-written'));
    const wait = waitForWalArchived({ store: empty, backup, connection: live().connection, timeoutMs: 300, pollMs: 50 });
    await expect(wait).rejects.toThrow(/did not reach the archive/);
    await expect(wait).rejects.toMatchObject({ code: 'USAGE', hint: expect.stringMatching(/archive_command/) });
  });
});

describe('point-in-time recovery', () => {
  it('recovers to a time: every commit acknowledged before it, none after', async () => {
    expect(() => checkTargetAfterBackup({ kind: 'time', time: timeMark.time }, backup)).not.toThrow();
    const { rows, result } = await restored('time');
    expect(timeMark.lastSeq).toBeGreaterThan(lsnMark.lastSeq);
    expect(rows.map((r) => r.seq)).toEqual(seqs(1, timeMark.lastSeq));
    expect(rows.every((r) => r.at.getTime() < timeMark.time.getTime())).toBe(true);
    expect(result.lastReplayedTransactionTime).toBeInstanceOf(Date);
    expect(result.lastReplayedTransactionTime?.getTime()).toBeLessThanOrEqual(timeMark.time.getTime());
    expect(result.lastReplayedTransactionTime?.getTime()).toBeGreaterThanOrEqual(rows[rows.length - 1]?.at.getTime() ?? Infinity);
    expect(result.stopMessage).toMatch(/recovery stopping before commit/);
  });

  it('recovers to a WAL location, exclusive', async () => {
    const { rows, result } = await restored('lsn');
    expect(rows.map((r) => r.seq)).toEqual(seqs(1, lsnMark.lastSeq));
    expect(parseLsn(result.recoveredLsn)).toBeLessThanOrEqual(parseLsn(lsnMark.lsn));
    expect(parseLsn(result.recoveredLsn)).toBeGreaterThan(parseLsn(backup.stopLsn));
    expect(result.stopMessage).toMatch(/recovery stopping before WAL location/);
  });

  it('recovers everything archived with latest', async () => {
    const { rows, result } = await restored('latest');
    expect(rows.map((r) => r.seq)).toEqual(seqs(1, finalSeq));
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.stopMessage).toMatch(/^redo done at \d+\/[0-9A-F]+/);
  });

  it('refuses a target before the end of the base backup, quoting PostgreSQL', async () => {
    expect(() => checkTargetAfterBackup({ kind: 'time', time: backup.startTime }, backup)).toThrow(/before the end of the base backup/);
    const error = await failure('before-backup-end');
    expect(error.code).toBe('USAGE');
    expect(error.message).toMatch(/^PostgreSQL recovery failed: .*before consistent recovery point/);
    expect(error.hint).toMatch(/later target/);
  });

  it('fails clearly when the archive lacks WAL the backup needs', async () => {
    const error = await failure('missing-backup-wal');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toMatch(/^PostgreSQL recovery failed: (could not locate required checkpoint record|WAL ends before)/);
    expect(error.hint).toMatch(/archive/);
  });

  it('fails clearly when a segment between the backup and the target is missing', async () => {
    expect(gapSegment > backup.stopWalFile).toBe(true);
    const error = await failure('gap-before-target');
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe('PostgreSQL recovery failed: recovery ended before configured recovery target was reached');
  });

  it('aborts recovery, rather than ending it early, when the archive cannot be read', async () => {
    const error = await failure('archive-unreadable');
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(/^PostgreSQL recovery failed: could not restore file "[0-9A-F.a-z]+" from archive: .*; restore_command said: bulwark: ENOTDIR/);
  });
});
