import { WalSpool, type ArchiverStatus } from '../postgres/wal-spool.js';
import type { PolicyConfig } from './repos.js';

export interface WalArchiveStatus {
  policy: string;
  mode: 'sync' | 'async';
  spool?: string;
  running: boolean;
  pending: number | null;
  /** Seconds the oldest waiting file has waited: the archive lag. */
  lagSeconds: number | null;
  lastArchived: string | null;
  lastArchivedAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** The last attempt failed and nothing was archived since. */
  failing: boolean;
  lines: string[];
}

/** What the asynchronous archiver last reported (status.json in the spool), and whether it runs now. */
export async function archiveStatus(name: string, policy: PolicyConfig, now = Date.now()): Promise<WalArchiveStatus> {
  if (!policy.wal_async) {
    return {
      policy: name, mode: 'sync', running: false, pending: null, lagSeconds: null, lastArchived: null, lastArchivedAt: null, lastError: null, lastErrorAt: null, failing: false,
      lines: [`policy ${name}: WAL is archived synchronously by archive_command; PostgreSQL's pg_stat_archiver shows its progress`],
    };
  }
  const spool = new WalSpool(policy.wal_async.spool, name);
  const status = await spool.readStatus();
  const running = status !== undefined && (await spool.archiverAlive());
  const failing = status?.lastErrorAt != null && (status.lastArchivedAt === null || status.lastErrorAt > status.lastArchivedAt);
  const lagSeconds = status?.oldestPendingSince ? Math.max(0, (now - Date.parse(status.oldestPendingSince)) / 1000) : status ? 0 : null;
  const out: WalArchiveStatus = {
    policy: name, mode: 'async', spool: spool.dir, running, pending: status?.pending ?? null, lagSeconds,
    lastArchived: status?.lastArchived ?? null, lastArchivedAt: status?.lastArchivedAt ?? null, lastError: status?.lastError ?? null, lastErrorAt: status?.lastErrorAt ?? null, failing,
    lines: [],
  };
  out.lines = describe(out, status);
  return out;
}

function describe(s: WalArchiveStatus, status: ArchiverStatus | undefined): string[] {
  if (!status) return [`policy ${s.policy}: no archiver has run yet (spool ${s.spool}); PostgreSQL starts it through archive_command`];
  return [
    `policy ${s.policy}: archiver ${s.running ? `running (pid ${status.pid})` : 'not running (it starts with the next WAL file)'}, spool ${s.spool}`,
    `waiting: ${s.pending ?? 0} file(s)${s.lagSeconds ? `, the oldest for ${s.lagSeconds.toFixed(1)}s` : ''}`,
    `last archived: ${s.lastArchived ?? 'none'}${s.lastArchivedAt ? ` at ${s.lastArchivedAt}` : ''}`,
    ...(s.lastError ? [`${s.failing ? 'FAILING' : 'last error'}: ${s.lastError} (${s.lastErrorAt})`] : []),
  ];
}
