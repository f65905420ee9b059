import { BulwarkError } from '../core/errors.js';
import type { Row, SqlDriver } from './driver.js';
import type { BackupCopyRecord, BackupRunKind, BackupRunRecord, BackupRunsQuery, LastBackupRuns } from './store.js';

/**
 * Backup-run history over `SqlDriver`. Kept apart from `sql-store.ts`, which
 * delegates here.
 */

const MAX_RUNS = 1000;
const COLUMNS = 'id, policy, kind, started_at, finished_at, duration_ms, ok, partial, repository, snapshot_id, bytes, added_bytes, stored_bytes, files, error, copies';
/** Newest first; the id breaks ties between runs started in the same millisecond. */
const ORDER = 'started_at DESC, finished_at DESC, id DESC';

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function stringOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function parseCopies(text: unknown): BackupCopyRecord[] {
  const parsed = JSON.parse(String(text)) as unknown;
  return Array.isArray(parsed) ? (parsed as BackupCopyRecord[]) : [];
}

export function runFromRow(r: Row): BackupRunRecord {
  return {
    id: String(r.id),
    policy: String(r.policy),
    kind: String(r.kind) as BackupRunKind,
    startedAt: Number(r.started_at),
    finishedAt: Number(r.finished_at),
    durationMs: Number(r.duration_ms),
    ok: Boolean(r.ok),
    partial: Boolean(r.partial),
    repository: String(r.repository),
    snapshotId: stringOrNull(r.snapshot_id),
    bytes: numberOrNull(r.bytes),
    addedBytes: numberOrNull(r.added_bytes),
    storedBytes: numberOrNull(r.stored_bytes),
    files: numberOrNull(r.files),
    error: stringOrNull(r.error),
    copies: parseCopies(r.copies),
  };
}

function latestSql(onlyOk: boolean): string {
  return `SELECT ${COLUMNS} FROM (
      SELECT ${COLUMNS}, ROW_NUMBER() OVER (PARTITION BY policy, kind ORDER BY ${ORDER}) AS rn
      FROM backup_runs${onlyOk ? ' WHERE ok' : ''}
    ) latest WHERE rn = 1 ORDER BY policy, kind`;
}

export class BackupRuns {
  constructor(private readonly driver: SqlDriver) {}

  async record(run: BackupRunRecord): Promise<void> {
    const bool = (b: boolean) => (this.driver.dialect === 'sqlite' ? (b ? 1 : 0) : b);
    const round = (n: number | null) => (n === null ? null : Math.round(n));
    try {
      await this.driver.run(
        `INSERT INTO backup_runs (${COLUMNS}) VALUES (${new Array<string>(16).fill('?').join(', ')})`,
        [
          run.id, run.policy, run.kind, Math.round(run.startedAt), Math.round(run.finishedAt), Math.max(0, Math.round(run.durationMs)),
          bool(run.ok), bool(run.partial), run.repository, run.snapshotId, round(run.bytes), round(run.addedBytes), round(run.storedBytes),
          round(run.files), run.error, JSON.stringify(run.copies),
        ],
      );
    } catch (err) {
      if (!this.driver.isUniqueViolation(err)) throw err;
      throw new BulwarkError('BAD_REQUEST', `backup run ${run.id} is already recorded`, { context: { id: run.id } });
    }
  }

  async list(query: BackupRunsQuery): Promise<BackupRunRecord[]> {
    const limit = Math.max(1, Math.min(MAX_RUNS, Math.floor(query.limit) || 1));
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.policy !== undefined) {
      where.push('policy = ?');
      params.push(query.policy);
    }
    if (query.kind !== undefined) {
      where.push('kind = ?');
      params.push(query.kind);
    }
    const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    const rows = await this.driver.all(`SELECT ${COLUMNS} FROM backup_runs${filter} ORDER BY ${ORDER} LIMIT ?`, [...params, limit]);
    return rows.map(runFromRow);
  }

  async latest(): Promise<LastBackupRuns[]> {
    const last = (await this.driver.all(latestSql(false))).map(runFromRow);
    const ok = (await this.driver.all(latestSql(true))).map(runFromRow);
    const success = new Map(ok.map((r) => [`${r.kind}\u0000${r.policy}`, r]));
    return last.map((run) => ({ policy: run.policy, kind: run.kind, last: run, lastSuccess: success.get(`${run.kind}\u0000${run.policy}`) ?? null }));
  }
}
