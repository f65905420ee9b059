/**
 * Physical base backups with pg_basebackup, without WAL (-X none): the WAL
 * comes from the archive, so a backup is only complete once the WAL up to its
 * stop point is archived (waitForWalArchived).
 */
import { spawn } from 'node:child_process';
import { access, open, readFile, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { BulwarkError } from '../../core/errors.js';
import { parseBackupLabel, parseManifestWalRanges } from './backup-files.js';
import { findPgBinDir } from './pg-env.js';
import { checkArchiving, readServerSettings, withClient } from './pg-client.js';
import type { BaseBackupInfo, PgConnection } from './types.js';
import { backupHistoryFileName, parseLsn, walFileNameBefore } from './wal-names.js';

export { waitForWalArchived, type WaitForWalOptions } from './archive-wait.js';
export type { BaseBackupInfo, PgConnection } from './types.js';

export interface BaseBackupProgress {
  doneKb: number;
  totalKb: number;
  percent: number;
}

export interface TakeBaseBackupOptions {
  connection: PgConnection;
  /** Created by pg_basebackup; must not exist or be empty. Removed again if the backup fails and we created it. */
  targetDir: string;
  binDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: BaseBackupProgress) => void;
  label?: string;
  /**
   * With -X none the server ends a backup only once its last WAL segment is
   * archived; give up after this long (default 5 min) instead of waiting forever.
   */
  archiveWaitMs?: number;
}

const PROGRESS_RE = /^\s*(\d+)\/(\d+) kB \((\d+)%\)/;
const ARCHIVE_WAIT_RE = /waiting for required WAL segments to be archived/;
const DEFAULT_ARCHIVE_WAIT_MS = 300_000;

export async function takeBaseBackup(options: TakeBaseBackupOptions): Promise<BaseBackupInfo> {
  const { connection, targetDir, signal } = options;
  const settings = await withClient(connection, readServerSettings, signal);
  checkArchiving(settings, connection);
  const binDir = options.binDir ?? await findPgBinDir(['pg_basebackup']);
  const existed = await access(targetDir).then(() => true, () => false);
  const startedAt = new Date();
  try {
    await runPgBasebackup(binDir, options);
    return await readBackupInfo(targetDir, settings.walSegmentSize, startedAt, new Date());
  } catch (err) {
    if (!existed) await rm(targetDir, { recursive: true, force: true });
    throw err;
  }
}

function basebackupArgs(options: TakeBaseBackupOptions): string[] {
  const { host, port, user } = options.connection;
  return ['-h', host, '-p', String(port), '-U', user, '-D', options.targetDir, '-F', 'p', '-X', 'none',
    '--checkpoint=fast', '--no-password', '--manifest-checksums=SHA256', '--progress',
    '--label', options.label ?? 'bulwark base backup'];
}

/** Calls `fn` for each line (pg_basebackup ends progress lines with \r on a terminal, \n otherwise). */
function eachLine(stream: Readable, fn: (line: string) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split(/[\r\n]/);
    pending = lines.pop() ?? '';
    lines.forEach(fn);
  });
}

async function runPgBasebackup(binDir: string, options: TakeBaseBackupOptions): Promise<void> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const archiveWaitMs = options.archiveWaitMs ?? DEFAULT_ARCHIVE_WAIT_MS;
  const env = { ...process.env, ...(options.connection.password !== undefined ? { PGPASSWORD: options.connection.password } : {}) };
  const child = spawn(join(binDir, 'pg_basebackup'), basebackupArgs(options), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const messages: string[] = [];
  let stuck = false;
  let archiveTimer: NodeJS.Timeout | undefined;
  eachLine(child.stderr, (line) => {
    const progress = PROGRESS_RE.exec(line);
    if (progress) onProgress?.({ doneKb: Number(progress[1]), totalKb: Number(progress[2]), percent: Number(progress[3]) });
    else if (line.trim()) messages.push(line.trim());
    if (ARCHIVE_WAIT_RE.test(line)) archiveTimer ??= setTimeout(() => { stuck = true; child.kill('SIGTERM'); }, archiveWaitMs);
  });
  const onAbort = (): void => { child.kill('SIGTERM'); };
  signal?.addEventListener('abort', onAbort, { once: true });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => {
    clearTimeout(archiveTimer);
    signal?.removeEventListener('abort', onAbort);
  });
  signal?.throwIfAborted();
  if (stuck) throw archiveStuck(options.connection, archiveWaitMs);
  if (code !== 0) throw basebackupFailed(messages.slice(-5).join('\n') || `exit status ${String(code)}`);
}

function archiveStuck(connection: PgConnection, waitedMs: number): BulwarkError {
  return new BulwarkError('USAGE', `the server at ${connection.host}:${connection.port} did not archive the base backup's last WAL segment `
    + `within ${Math.round(waitedMs / 1000)} s, so the backup cannot be restored`, {
    hint: 'check archive_command in postgresql.conf and "archive command failed" lines in the server log; SELECT * FROM pg_stat_archiver shows the last failure',
  });
}

function basebackupFailed(output: string): BulwarkError {
  const message = `pg_basebackup failed: ${output}`;
  if (/No space left on device/i.test(output)) {
    return new BulwarkError('DISK_FULL', message, { hint: 'free space where the backup is written' });
  }
  if (/exists but is not empty/.test(output)) {
    return new BulwarkError('USAGE', message, { hint: 'back up into a new or empty directory' });
  }
  if (/password authentication failed|no pg_hba\.conf entry|replication role|permission denied/i.test(output)) {
    return new BulwarkError('USAGE', message, {
      hint: 'the role needs the REPLICATION attribute (or superuser), and pg_hba.conf a `host replication <role> <address>` line',
    });
  }
  if (/could not connect|connection to server|timeout expired|Connection refused/i.test(output)) {
    return new BulwarkError('BACKEND_UNAVAILABLE', message, { hint: 'check that the server is up and reachable', context: { transient: true } });
  }
  return new BulwarkError('INTERNAL', message, { hint: 'see the pg_basebackup output above' });
}

async function systemIdentifier(dataDir: string): Promise<string | undefined> {
  // The first field of pg_control, a uint64 in the server's byte order.
  const handle = await open(join(dataDir, 'global', 'pg_control'), 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buffer = Buffer.alloc(8);
    const { bytesRead } = await handle.read(buffer, 0, 8, 0);
    if (bytesRead < 8) return undefined;
    return (endianness() === 'LE' ? buffer.readBigUInt64LE(0) : buffer.readBigUInt64BE(0)).toString();
  } finally {
    await handle.close();
  }
}

/** What a finished plain-format backup in `dir` is: from backup_label, backup_manifest, PG_VERSION and pg_control. */
export async function readBackupInfo(dir: string, walSegmentSize: number, startedAt: Date, stoppedAt: Date): Promise<BaseBackupInfo> {
  const label = parseBackupLabel(await readFile(join(dir, 'backup_label'), 'utf8'));
  const ranges = parseManifestWalRanges(await readFile(join(dir, 'backup_manifest'), 'utf8'));
  const last = ranges.reduce((a, b) => (parseLsn(b.endLsn) > parseLsn(a.endLsn) ? b : a));
  const sysid = await systemIdentifier(dir);
  return {
    label: label.label,
    startLsn: label.startLsn,
    stopLsn: last.endLsn,
    timeline: label.timeline,
    stopTimeline: last.timeline,
    startTime: label.startTime ?? startedAt,
    stopTime: stoppedAt,
    startWalFile: label.startWalFile,
    stopWalFile: walFileNameBefore(last.timeline, last.endLsn, walSegmentSize),
    backupHistoryFile: backupHistoryFileName(label.timeline, label.startLsn, walSegmentSize),
    walSegmentSize,
    pgVersion: (await readFile(join(dir, 'PG_VERSION'), 'utf8')).trim(),
    ...(sysid === undefined ? {} : { systemIdentifier: sysid }),
  };
}
