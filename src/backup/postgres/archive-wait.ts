import { BulwarkError, errorMessage } from '../../core/errors.js';
import { parseBackupHistory } from './backup-files.js';
import { withClient } from './pg-client.js';
import type { BaseBackupInfo, PgConnection } from './types.js';
import { sleep } from '../../core/time.js';
import { segmentRange } from './wal-names.js';
import type { WalStore } from './wal-store.js';

export interface WaitForWalOptions {
  store: WalStore;
  backup: BaseBackupInfo;
  /** When given, `pg_switch_wal()` is called first so the last segment does not wait for archive_timeout. */
  connection?: PgConnection;
  timeoutMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_POLL_MS = 200;

function neededSegments(backup: BaseBackupInfo): string[] {
  // A backup from a standby that was promoted meanwhile spans two timelines; the stop segment is what proves it complete.
  if (backup.timeline !== backup.stopTimeline) return [backup.stopWalFile];
  return segmentRange(backup.startWalFile, backup.stopWalFile, backup.walSegmentSize);
}

async function switchWal(connection: PgConnection, signal?: AbortSignal): Promise<void> {
  // Best effort: a standby cannot switch, and the role may lack the privilege; archive_timeout then does it.
  await withClient(connection, async (client) => {
    await client.query('SELECT pg_switch_wal() WHERE NOT pg_is_in_recovery()');
  }, signal).catch(() => undefined);
}

async function archiverStatus(connection: PgConnection | undefined): Promise<string> {
  if (!connection) return '';
  try {
    return await withClient(connection, async (client) => {
      const row = (await client.query<{ wal: string | null; at: Date | null }>(
        'SELECT last_failed_wal AS wal, last_failed_time AS at FROM pg_stat_archiver')).rows[0];
      return row?.wal ? ` (the server's archiver last failed on ${row.wal} at ${row.at?.toISOString() ?? '?'})` : '';
    });
  } catch (err) {
    return ` (could not read pg_stat_archiver: ${errorMessage(err)})`;
  }
}

async function refineStopTime(store: WalStore, backup: BaseBackupInfo, signal?: AbortSignal): Promise<BaseBackupInfo> {
  const history = await store.get(backup.backupHistoryFile, signal);
  const stopTime = history ? parseBackupHistory(history.toString('utf8')).stopTime : undefined;
  // STOP TIME has whole seconds and is read after the backup-end record: the next second is safely after it.
  return stopTime ? { ...backup, stopTime: new Date(stopTime.getTime() + 1000) } : backup;
}

/**
 * Waits until every WAL segment from the backup's start to its stop segment
 * is in `store`: only then is the backup restorable. Returns the backup with
 * its stop time taken from the archived backup history file when there is one.
 */
export async function waitForWalArchived(options: WaitForWalOptions): Promise<BaseBackupInfo> {
  const { store, backup, connection, signal } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const needed = neededSegments(backup);
  if (connection) await switchWal(connection, signal);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const archived = new Set(await store.list(signal));
    const missing = needed.filter((name) => !archived.has(name));
    if (missing.length === 0) return refineStopTime(store, backup, signal);
    if (Date.now() >= deadline) {
      throw new BulwarkError('USAGE', `WAL segment ${missing.join(', ')} needed by the base backup did not reach the archive `
        + `within ${Math.round(timeoutMs / 1000)} s, so the backup cannot be restored${await archiverStatus(connection)}`, {
        hint: 'check that archive_command on the server runs `bulwark wal archive` for this policy and succeeds: '
          + 'look for "archive command failed" in the server log',
        context: { missing },
      });
    }
    await sleep(options.pollMs ?? DEFAULT_POLL_MS, signal);
    signal?.throwIfAborted();
  }
}
