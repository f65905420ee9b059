/**
 * Schema migrations, oldest first. Never edit or reorder a released
 * migration: add a new one. Both dialects describe the same schema; they
 * differ only where the SQL must (identity columns, timestamp types).
 */
export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

const ID = { sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT', postgres: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' };
const TS = { sqlite: 'TEXT', postgres: 'TIMESTAMPTZ' };

function apiTokens(d: Dialect): string {
  return `
    CREATE TABLE api_tokens (
      id ${ID[d]},
      name TEXT NOT NULL,
      prefix TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE,
      created_at ${TS[d]} NOT NULL,
      last_used_at ${TS[d]},
      revoked_at ${TS[d]}
    );
    CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;`;
}

function events(d: Dialect): string {
  return `
    CREATE TABLE events (
      id ${ID[d]},
      at ${TS[d]} NOT NULL,
      subsystem TEXT NOT NULL,
      kind TEXT NOT NULL,
      subject TEXT NOT NULL,
      data TEXT NOT NULL
    );
    CREATE INDEX events_subsystem_id ON events (subsystem, id);`;
}

function configRevisions(d: Dialect): string {
  return `
    CREATE TABLE config_revisions (
      id ${ID[d]},
      checksum TEXT NOT NULL,
      source TEXT NOT NULL,
      recorded_at ${TS[d]} NOT NULL
    );`;
}

const BIG = { sqlite: 'INTEGER', postgres: 'BIGINT' };
const BOOL = { sqlite: 'INTEGER', postgres: 'BOOLEAN' };

/**
 * Probe history: raw results, minute/hour/day rollups, and state changes.
 * Times are epoch milliseconds (BIGINT), buckets start at UTC minute/hour/day.
 *
 * Footprint, measured on SQLite (one target named like `api/10.0.1.10:8080`,
 * 10 s interval, default retention raw 24h, minute 7d, hour 90d, day 400d),
 * i.e. what one monitor holds in its first month: 8,640 raw rows + 10,080
 * minute + 2,160 hour + 30 day rollups ≈ 1.46 MB per monitor (growth of
 * page_count * page_size over 100 such targets / 100; 1.40 MB for a single
 * one). Of that, raw results 0.80 MB (table 0.33, (target, at) index 0.33,
 * (at) index 0.14) and rollups 0.66 MB (WITHOUT ROWID, so no second copy of
 * the key). Once 400 days old, the day rollups add ~20 kB more.
 */
function probeHistory(d: Dialect): string {
  return `
    CREATE TABLE probe_results (
      target TEXT NOT NULL,
      at ${BIG[d]} NOT NULL,
      ok ${BOOL[d]} NOT NULL,
      duration_ms INTEGER NOT NULL,
      reason TEXT
    );
    CREATE INDEX probe_results_target_at ON probe_results (target, at);
    CREATE INDEX probe_results_at ON probe_results (at);
    CREATE TABLE probe_rollups (
      target TEXT NOT NULL,
      resolution TEXT NOT NULL CHECK (resolution IN ('minute', 'hour', 'day')),
      bucket ${BIG[d]} NOT NULL,
      checks INTEGER NOT NULL,
      ok INTEGER NOT NULL,
      duration_sum_ms ${BIG[d]} NOT NULL,
      duration_max_ms INTEGER NOT NULL,
      PRIMARY KEY (target, resolution, bucket)
    )${d === 'sqlite' ? ' WITHOUT ROWID' : ''};
    CREATE TABLE state_changes (
      id ${ID[d]},
      subject_kind TEXT NOT NULL,
      subject TEXT NOT NULL,
      from_status TEXT NOT NULL,
      to_status TEXT NOT NULL,
      at ${BIG[d]} NOT NULL,
      reason TEXT
    );
    CREATE INDEX state_changes_subject_at ON state_changes (subject_kind, subject, at);`;
}

/**
 * Backup and verification runs of the scheduled policies, one row per run,
 * written when it ends. `id` is the run id the API hands out when a run is
 * started; times are epoch milliseconds; `copies` is JSON (one entry per
 * copy target, or per repository checked for a verify run).
 */
function backupRuns(d: Dialect): string {
  return `
    CREATE TABLE backup_runs (
      id TEXT PRIMARY KEY,
      policy TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('backup', 'verify')),
      started_at ${BIG[d]} NOT NULL,
      finished_at ${BIG[d]} NOT NULL,
      duration_ms ${BIG[d]} NOT NULL,
      ok ${BOOL[d]} NOT NULL,
      partial ${BOOL[d]} NOT NULL,
      repository TEXT NOT NULL,
      snapshot_id TEXT,
      bytes ${BIG[d]},
      added_bytes ${BIG[d]},
      stored_bytes ${BIG[d]},
      files ${BIG[d]},
      error TEXT,
      copies TEXT NOT NULL
    );
    CREATE INDEX backup_runs_policy_kind_started ON backup_runs (policy, kind, started_at);
    CREATE INDEX backup_runs_started ON backup_runs (started_at);`;
}

/**
 * Alerting: incidents (one open per key, enforced by a partial unique index),
 * their timeline, the notification outbox (one row per idempotency key) and
 * silences. Times are epoch milliseconds.
 */
function alerting(d: Dialect): string {
  return `
    CREATE TABLE incidents (
      id ${ID[d]},
      key TEXT NOT NULL,
      rule TEXT NOT NULL,
      severity TEXT NOT NULL,
      title TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
      policy TEXT,
      labels TEXT NOT NULL,
      alerts TEXT NOT NULL,
      opened_at ${BIG[d]} NOT NULL,
      acknowledged_at ${BIG[d]},
      acknowledged_by TEXT,
      resolved_at ${BIG[d]},
      resolved_by TEXT,
      owner TEXT,
      next_level INTEGER NOT NULL,
      cycle INTEGER NOT NULL,
      next_at ${BIG[d]},
      clear_since ${BIG[d]},
      flapping ${BOOL[d]} NOT NULL,
      root_cause TEXT,
      resolution TEXT,
      reminder_at ${BIG[d]},
      updated_at ${BIG[d]} NOT NULL
    );
    CREATE UNIQUE INDEX incidents_open_key ON incidents (key) WHERE state <> 'resolved';
    CREATE INDEX incidents_opened ON incidents (opened_at);
    CREATE TABLE incident_events (
      id ${ID[d]},
      incident_id ${BIG[d]} NOT NULL REFERENCES incidents (id),
      at ${BIG[d]} NOT NULL,
      kind TEXT NOT NULL,
      actor TEXT NOT NULL,
      data TEXT NOT NULL
    );
    CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
    CREATE TABLE alert_outbox (
      id ${ID[d]},
      idempotency_key TEXT NOT NULL UNIQUE,
      channel TEXT NOT NULL,
      incident_id ${BIG[d]},
      kind TEXT NOT NULL,
      message TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
      attempts INTEGER NOT NULL,
      created_at ${BIG[d]} NOT NULL,
      deadline_at ${BIG[d]} NOT NULL,
      next_attempt_at ${BIG[d]} NOT NULL,
      lease_until ${BIG[d]},
      last_error TEXT,
      delivered_at ${BIG[d]}
    );
    CREATE INDEX alert_outbox_due ON alert_outbox (state, next_attempt_at);
    CREATE INDEX alert_outbox_incident ON alert_outbox (incident_id);
    CREATE TABLE silences (
      id ${ID[d]},
      matchers TEXT NOT NULL,
      starts_at ${BIG[d]} NOT NULL,
      ends_at ${BIG[d]} NOT NULL,
      created_by TEXT NOT NULL,
      comment TEXT NOT NULL,
      created_at ${BIG[d]} NOT NULL,
      expired_at ${BIG[d]},
      expired_by TEXT
    );
    CREATE TABLE settings (
      name TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );`;
}

/**
 * Status page subscribers (email or webhook) and the fan-out's cursor. No
 * token is kept: confirmation and unsubscribe links are HMACs over the row id
 * under a key in `settings`, so every later email can carry its unsubscribe link.
 * One active (not unsubscribed) row per (kind, address).
 */
function statusSubscribers(d: Dialect): string {
  return `
    CREATE TABLE status_subscribers (
      id ${ID[d]},
      kind TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
      address TEXT NOT NULL,
      components TEXT NOT NULL,
      created_at ${BIG[d]} NOT NULL,
      confirmed_at ${BIG[d]},
      unsubscribed_at ${BIG[d]}
    );
    CREATE UNIQUE INDEX status_subscribers_active ON status_subscribers (kind, address) WHERE unsubscribed_at IS NULL;
    CREATE TABLE status_cursors (
      name TEXT PRIMARY KEY,
      value ${BIG[d]} NOT NULL
    );`;
}

/** Drill runs: one row per drill when it ends (or, after a crash, when the next start reverts it as aborted). */
function drillRuns(d: Dialect): string {
  return `
    CREATE TABLE drill_runs (
      id TEXT PRIMARY KEY,
      drill TEXT NOT NULL,
      type TEXT NOT NULL,
      started_at ${BIG[d]} NOT NULL,
      finished_at ${BIG[d]} NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'aborted')),
      measured TEXT NOT NULL,
      report TEXT NOT NULL
    );
    CREATE INDEX drill_runs_drill ON drill_runs (drill, started_at);`;
}

function both(version: number, name: string, sql: (d: Dialect) => string): Migration {
  return { version, name, sqlite: sql('sqlite'), postgres: sql('postgres') };
}

export const MIGRATIONS: readonly Migration[] = [
  both(1, 'api_tokens', apiTokens),
  both(2, 'events', events),
  both(3, 'config_revisions', configRevisions),
  both(4, 'probe_history', probeHistory),
  both(5, 'backup_runs', backupRuns),
  // The applied file's text (inline secrets redacted, references as written), for `bulwark config history|diff`.
  both(6, 'config_revision_text', () => 'ALTER TABLE config_revisions ADD COLUMN text TEXT;'),
  both(7, 'alerting', alerting),
  both(8, 'status_subscribers', statusSubscribers),
  both(9, 'drill_runs', drillRuns),
];

export const LATEST_SCHEMA_VERSION: number = Math.max(...MIGRATIONS.map((m) => m.version));

/** Created before the first migration; never changes shape. */
export const BOOTSTRAP_SQL: Record<Dialect, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
  postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`,
};

/** One `?` parameter: the table name. Returns one row with column `n`. */
export const HAS_TABLE_SQL: Record<Dialect, string> = {
  sqlite: `SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?`,
  postgres: `SELECT COUNT(*)::int AS n FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name = ?`,
};
