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

function both(version: number, name: string, sql: (d: Dialect) => string): Migration {
  return { version, name, sqlite: sql('sqlite'), postgres: sql('postgres') };
}

export const MIGRATIONS: readonly Migration[] = [
  both(1, 'api_tokens', apiTokens),
  both(2, 'events', events),
  both(3, 'config_revisions', configRevisions),
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
