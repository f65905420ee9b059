import type { Row, SqlDriver, SqlExecutor } from './driver.js';
import type { Dialect } from './migrations.js';
import {
  ROLLUP_BUCKET_MS, type NewStateChange, type ProbeResultInput, type ProbeResultRecord, type ProbeRetention,
  type ProbeRollup, type ProbeRollupsQuery, type PruneResult, type RollupResolution, type StateChange,
  type StateChangesQuery, type SubjectKind,
} from './store.js';

/**
 * Probe history over `SqlDriver`: raw results, rollups, state changes.
 * Kept apart from `sql-store.ts`, which delegates here.
 */

/** Rows per INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const CHUNK = 500;
const MAX_LATEST = 1000;
const RESOLUTIONS: readonly RollupResolution[] = ['minute', 'hour', 'day'];
const STATE_COLUMNS = 'id, subject_kind, subject, from_status, to_status, at, reason';

/**
 * The rollups have no index on (resolution, bucket): it would cost ~40 % more
 * space. Instead the distinct targets are walked through the primary key (a
 * loose index scan) and each target's old buckets deleted by key range.
 */
const PRUNE_ROLLUPS_SQL = `WITH RECURSIVE targets (target) AS (
    SELECT MIN(target) FROM probe_rollups
    UNION ALL
    SELECT (SELECT MIN(p.target) FROM probe_rollups p WHERE p.target > targets.target)
      FROM targets WHERE targets.target IS NOT NULL)
  DELETE FROM probe_rollups
    WHERE target IN (SELECT target FROM targets WHERE target IS NOT NULL) AND resolution = ? AND bucket < ?`;

interface Rollup {
  target: string;
  resolution: RollupResolution;
  bucket: number;
  checks: number;
  ok: number;
  sum: number;
  max: number;
}

/** Sums `rows` per (target, resolution, bucket), so each key is upserted once. */
export function aggregate(rows: readonly ProbeResultInput[]): Rollup[] {
  const byKey = new Map<string, Rollup>();
  for (const r of rows) {
    const duration = Math.max(0, Math.round(r.durationMs));
    for (const resolution of RESOLUTIONS) {
      const size = ROLLUP_BUCKET_MS[resolution];
      const bucket = Math.floor(r.at / size) * size;
      const key = `${resolution}\u0000${bucket}\u0000${r.target}`;
      const acc = byKey.get(key);
      if (acc === undefined) {
        byKey.set(key, { target: r.target, resolution, bucket, checks: 1, ok: r.ok ? 1 : 0, sum: duration, max: duration });
      } else {
        acc.checks += 1;
        acc.ok += r.ok ? 1 : 0;
        acc.sum += duration;
        acc.max = Math.max(acc.max, duration);
      }
    }
  }
  return [...byKey.values()];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function placeholders(rows: number, columns: number): string {
  const one = `(${new Array<string>(columns).fill('?').join(', ')})`;
  return new Array<string>(rows).fill(one).join(', ');
}

function upsertRollupsSql(dialect: Dialect, rows: number): string {
  const max = dialect === 'sqlite' ? 'MAX' : 'GREATEST';
  return `INSERT INTO probe_rollups (target, resolution, bucket, checks, ok, duration_sum_ms, duration_max_ms)
    VALUES ${placeholders(rows, 7)}
    ON CONFLICT (target, resolution, bucket) DO UPDATE SET
      checks = probe_rollups.checks + excluded.checks,
      ok = probe_rollups.ok + excluded.ok,
      duration_sum_ms = probe_rollups.duration_sum_ms + excluded.duration_sum_ms,
      duration_max_ms = ${max}(probe_rollups.duration_max_ms, excluded.duration_max_ms)`;
}

function resultFromRow(r: Row): ProbeResultRecord {
  return {
    target: String(r.target),
    at: Number(r.at),
    ok: Boolean(r.ok),
    durationMs: Number(r.duration_ms),
    reason: r.reason === null || r.reason === undefined ? null : String(r.reason),
  };
}

function rollupFromRow(r: Row): ProbeRollup {
  return {
    target: String(r.target),
    resolution: String(r.resolution) as RollupResolution,
    bucket: Number(r.bucket),
    checks: Number(r.checks),
    ok: Number(r.ok),
    durationSumMs: Number(r.duration_sum_ms),
    durationMaxMs: Number(r.duration_max_ms),
  };
}

function stateChangeFromRow(r: Row): StateChange {
  return {
    id: Number(r.id),
    subjectKind: String(r.subject_kind) as SubjectKind,
    subject: String(r.subject),
    from: String(r.from_status),
    to: String(r.to_status),
    at: Number(r.at),
    reason: r.reason === null || r.reason === undefined ? null : String(r.reason),
  };
}

export class ProbeHistory {
  constructor(private readonly driver: SqlDriver) {}

  async recordProbeResults(rows: readonly ProbeResultInput[]): Promise<void> {
    if (rows.length === 0) return;
    const rollups = aggregate(rows);
    await this.driver.transaction(async (tx) => {
      for (const chunk of chunks(rows, CHUNK)) await this.insertResults(tx, chunk);
      for (const chunk of chunks(rollups, CHUNK)) await this.upsertRollups(tx, chunk);
    });
  }

  private async insertResults(tx: SqlExecutor, rows: readonly ProbeResultInput[]): Promise<void> {
    const sqlite = this.driver.dialect === 'sqlite';
    const params: unknown[] = [];
    for (const r of rows) {
      params.push(r.target, Math.round(r.at), sqlite ? (r.ok ? 1 : 0) : r.ok, Math.max(0, Math.round(r.durationMs)), r.reason ?? null);
    }
    await tx.run(`INSERT INTO probe_results (target, at, ok, duration_ms, reason) VALUES ${placeholders(rows.length, 5)}`, params);
  }

  private async upsertRollups(tx: SqlExecutor, rollups: readonly Rollup[]): Promise<void> {
    const params: unknown[] = [];
    for (const r of rollups) params.push(r.target, r.resolution, r.bucket, r.checks, r.ok, r.sum, r.max);
    await tx.run(upsertRollupsSql(this.driver.dialect, rollups.length), params);
  }

  async recordStateChange(change: NewStateChange): Promise<StateChange> {
    const rows = await this.driver.all(
      `INSERT INTO state_changes (subject_kind, subject, from_status, to_status, at, reason)
        VALUES (?, ?, ?, ?, ?, ?) RETURNING ${STATE_COLUMNS}`,
      [change.subjectKind, change.subject, change.from, change.to, Math.round(change.at), change.reason ?? null],
    );
    return stateChangeFromRow(rows[0] as Row);
  }

  async stateChanges(query: StateChangesQuery): Promise<StateChange[]> {
    const subject = query.subject === undefined ? '' : ' AND s.subject = ?';
    const subjectParams = query.subject === undefined ? [] : [query.subject];
    const until = query.until === undefined ? '' : ' AND s.at <= ?';
    const untilParams = query.until === undefined ? [] : [query.until];
    // The last change before `since` per subject: no later change before `since` exists.
    const before = `SELECT ${STATE_COLUMNS} FROM state_changes s
      WHERE s.subject_kind = ?${subject} AND s.at < ? AND NOT EXISTS (
        SELECT 1 FROM state_changes t WHERE t.subject_kind = s.subject_kind AND t.subject = s.subject
          AND t.at < ? AND (t.at > s.at OR (t.at = s.at AND t.id > s.id)))`;
    const inside = `SELECT ${STATE_COLUMNS} FROM state_changes s WHERE s.subject_kind = ?${subject} AND s.at >= ?${until}`;
    const rows = await this.driver.all(
      `SELECT * FROM (${before} UNION ALL ${inside}) x ORDER BY at, id`,
      [
        query.subjectKind, ...subjectParams, query.since, query.since,
        query.subjectKind, ...subjectParams, query.since, ...untilParams,
      ],
    );
    return rows.map(stateChangeFromRow);
  }

  async probeRollups(query: ProbeRollupsQuery): Promise<ProbeRollup[]> {
    const size = ROLLUP_BUCKET_MS[query.resolution];
    const rows = await this.driver.all(
      `SELECT target, resolution, bucket, checks, ok, duration_sum_ms, duration_max_ms FROM probe_rollups
        WHERE target = ? AND resolution = ? AND bucket > ? AND bucket <= ? ORDER BY bucket`,
      [query.target, query.resolution, query.since - size, query.until],
    );
    return rows.map(rollupFromRow);
  }

  async latestProbeResults(target: string, limit: number): Promise<ProbeResultRecord[]> {
    const n = Math.max(1, Math.min(MAX_LATEST, Math.floor(limit)));
    const rows = await this.driver.all(
      'SELECT target, at, ok, duration_ms, reason FROM probe_results WHERE target = ? ORDER BY at DESC LIMIT ?',
      [target, n],
    );
    return rows.map(resultFromRow);
  }

  async pruneProbeHistory(retention: ProbeRetention, now: number): Promise<PruneResult> {
    return this.driver.transaction(async (tx) => {
      const rollups = (resolution: RollupResolution, keepMs: number): Promise<number> =>
        tx.run(PRUNE_ROLLUPS_SQL, [resolution, now - keepMs]);
      const stateCutoff = now - retention.stateChangesMs;
      return {
        raw: await tx.run('DELETE FROM probe_results WHERE at < ?', [now - retention.rawMs]),
        minute: await rollups('minute', retention.minuteMs),
        hour: await rollups('hour', retention.hourMs),
        day: await rollups('day', retention.dayMs),
        // Keep each subject's last change before the cutoff (hence its latest overall).
        stateChanges: await tx.run(
          `DELETE FROM state_changes WHERE at < ? AND EXISTS (
            SELECT 1 FROM state_changes t WHERE t.subject_kind = state_changes.subject_kind
              AND t.subject = state_changes.subject AND t.at < ?
              AND (t.at > state_changes.at OR (t.at = state_changes.at AND t.id > state_changes.id)))`,
          [stateCutoff, stateCutoff],
        ),
      };
    });
  }

  async storageBytes(): Promise<number | null> {
    const sql = this.driver.dialect === 'sqlite'
      ? 'SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()'
      : `SELECT COALESCE(SUM(pg_total_relation_size(to_regclass(t))), 0)::bigint AS n
          FROM unnest(ARRAY['probe_results', 'probe_rollups', 'state_changes']) AS t`;
    const [row] = await this.driver.all<{ n: unknown }>(sql);
    return row === undefined || row.n === null ? null : Number(row.n);
  }
}
