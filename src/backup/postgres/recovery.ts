/**
 * Point-in-time recovery: turning a restored base backup into a data
 * directory PostgreSQL recovers from the WAL archive, up to a target.
 */
import type { Dirent } from 'node:fs';
import { chmod, chown, lchown, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BulwarkError } from '../../core/errors.js';
import { postgresOsUser, type OsUser } from './pg-env.js';
import { confString } from './quoting.js';
import type { BaseBackupInfo } from './types.js';
import { formatLsn, isLsn, parseLsn } from './wal-names.js';

export { startAndAwaitRecovery, type RecoveredServer, type RecoveryResult, type StartRecoveryOptions } from './recovery-server.js';

export type RecoveryTarget =
  | { kind: 'time'; time: Date; /** Microseconds within `time`'s millisecond (0–999): PostgreSQL times have µs. */ micros?: number }
  | { kind: 'lsn'; lsn: string }
  | { kind: 'latest' };

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const TARGET_HINT = 'use "latest", a WAL location such as 0/3000060, or a time with its zone such as 2024-05-01T12:00:00Z or 2024-05-01 14:00:00+02:00';

function badTarget(message: string, hint = TARGET_HINT): BulwarkError {
  return new BulwarkError('USAGE', message, { hint });
}

function parseTime(text: string, match: RegExpExecArray): RecoveryTarget {
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = match;
  // A time without a zone is refused rather than guessed: the server's, this host's
  // and the user's idea of local time can differ by hours, and a wrong guess loses data.
  if (zone === undefined) {
    throw badTarget(`recovery target time "${text}" has no time zone`, 'add Z for UTC or an offset, e.g. 2024-05-01T12:00:00Z or 2024-05-01T14:00:00+02:00');
  }
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '') || '00'}`;
  const digits = fraction.padEnd(6, '0');
  const time = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${digits.slice(0, 3)}${offset}`);
  const sameDay = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() === Number(d);
  if (Number.isNaN(time.getTime()) || !sameDay || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw badTarget(`recovery target time "${text}" is not a valid date and time`);
  }
  const micros = Number(digits.slice(3));
  return micros ? { kind: 'time', time, micros } : { kind: 'time', time };
}

/**
 * `latest` (all archived WAL), a WAL location (`0/3000060`), or an ISO 8601
 * time that must carry a zone (`Z`, `+02`, `+02:00`).
 */
export function parseRecoveryTarget(text: string): RecoveryTarget {
  const value = text.trim();
  if (value === '') throw badTarget('the recovery target is empty');
  if (value.toLowerCase() === 'latest') return { kind: 'latest' };
  if (isLsn(value)) return { kind: 'lsn', lsn: formatLsn(parseLsn(value)) };
  const match = TIME_RE.exec(value);
  if (match) return parseTime(value, match);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) throw badTarget(`recovery target "${text}" has a date but no time of day`);
  throw badTarget(`"${text}" is not a recovery target`);
}

/** `2024-05-01 12:00:00.123456+00`: UTC with an explicit offset, microseconds kept. */
export function formatTargetTime(target: { time: Date; micros?: number }): string {
  const iso = target.time.toISOString(); // 2024-05-01T12:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${String(target.micros ?? 0).padStart(3, '0')}+00`;
}

export function describeTarget(target: RecoveryTarget): string {
  if (target.kind === 'latest') return 'the end of the archived WAL';
  return target.kind === 'lsn' ? `WAL location ${target.lsn}` : formatTargetTime(target);
}

/** Refuses a target the backup cannot reach: recovery cannot stop before the backup is consistent. */
export function checkTargetAfterBackup(target: RecoveryTarget, backup: Pick<BaseBackupInfo, 'stopLsn' | 'stopTime'>): void {
  const tooEarly = target.kind === 'time'
    ? target.time.getTime() < backup.stopTime.getTime()
    : target.kind === 'lsn' && parseLsn(target.lsn) < parseLsn(backup.stopLsn);
  if (!tooEarly) return;
  const end = target.kind === 'time' ? backup.stopTime.toISOString() : backup.stopLsn;
  throw new BulwarkError('USAGE', `recovery target ${describeTarget(target)} is before the end of the base backup (${end}); `
    + 'a backup can only be recovered to a point after it ended', {
    hint: 'choose a later target, or restore an older base backup',
  });
}

export interface PrepareRecoveryOptions {
  dataDir: string;
  target: RecoveryTarget;
  /** The restore_command, e.g. from restoreCommand(); %f and %p are left for PostgreSQL. */
  restoreCommand: string;
  /** Whether recovery stops just after (true, PostgreSQL's default) or just before the target. */
  inclusive?: boolean;
  /** Who owns the data directory; by default, when root, the `postgres` user. */
  owner?: OsUser;
}

// Recovery settings a previous restore (or the source cluster) may have left; two different targets are fatal.
const MANAGED_SETTING = /^\s*(restore_command|recovery_target\w*|recovery_end_command)\s*(=|\s)/i;

function recoverySettings(options: PrepareRecoveryOptions): string[] {
  const { target } = options;
  const lines = ['# Point-in-time recovery, written by Bulwark', `restore_command = ${confString(options.restoreCommand)}`];
  if (target.kind === 'time') lines.push(`recovery_target_time = ${confString(formatTargetTime(target))}`);
  if (target.kind === 'lsn') lines.push(`recovery_target_lsn = ${confString(target.lsn)}`);
  if (target.kind !== 'latest' && options.inclusive !== undefined) lines.push(`recovery_target_inclusive = ${options.inclusive ? 'on' : 'off'}`);
  lines.push("recovery_target_action = 'promote'", "recovery_target_timeline = 'latest'");
  return lines;
}

async function readOptional(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/**
 * Makes `dataDir` (a restored plain-format base backup) recover to `target`:
 * recovery.signal, the recovery settings in postgresql.auto.conf (replacing
 * earlier ones), no stale postmaster.pid or standby.signal, mode 0700, and
 * owned by the PostgreSQL user when we are root.
 */
export async function prepareRecovery(options: PrepareRecoveryOptions): Promise<void> {
  const { dataDir } = options;
  if ((await readOptional(join(dataDir, 'PG_VERSION'))) === undefined) {
    throw new BulwarkError('USAGE', `${dataDir} is not a PostgreSQL data directory (it has no PG_VERSION)`, {
      hint: 'restore the base backup into it first',
    });
  }
  for (const leftover of ['postmaster.pid', 'postmaster.opts', 'standby.signal']) await rm(join(dataDir, leftover), { force: true });
  const autoConf = join(dataDir, 'postgresql.auto.conf');
  const kept = ((await readOptional(autoConf)) ?? '').split('\n').filter((line) => !MANAGED_SETTING.test(line));
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  await writeFile(autoConf, [...kept, ...recoverySettings(options), ''].join('\n'), { mode: 0o600 });
  // The backup of a cluster whose configuration lives elsewhere (Debian's /etc/postgresql) has none; defaults do.
  if ((await readOptional(join(dataDir, 'postgresql.conf'))) === undefined) {
    await writeFile(join(dataDir, 'postgresql.conf'), '# The base backup had no postgresql.conf; written empty by Bulwark.\n', { mode: 0o600 });
  }
  await writeFile(join(dataDir, 'recovery.signal'), '', { mode: 0o600 });
  await chmod(dataDir, 0o700);
  const owner = options.owner ?? await postgresOsUser();
  if (owner) await chownTree(dataDir, owner);
}

/** chown -R without following symlinks (pg_tblspc links point at tablespaces restored separately). */
async function chownTree(dir: string, owner: OsUser): Promise<void> {
  await chown(dir, owner.uid, owner.gid);
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, owner);
    else await lchown(path, owner.uid, owner.gid);
  }
}
