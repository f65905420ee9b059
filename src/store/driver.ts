import type { Dialect } from './migrations.js';

export type Row = Record<string, unknown>;

/**
 * The little a store needs from a database. SQL is written with `?`
 * placeholders; the PostgreSQL driver numbers them.
 */
export interface SqlExecutor {
  all<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Several statements, no parameters. */
  exec(script: string): Promise<void>;
}

export interface SqlConnection extends SqlExecutor {
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

export interface SqlDriver extends SqlConnection {
  readonly dialect: Dialect;
  /** Run `fn` while holding the lock that keeps concurrent migrators apart. */
  withMigrationLock<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T>;
  isUniqueViolation(err: unknown): boolean;
  close(): Promise<void>;
}

/** `?` → `$1`, `$2`, …; our SQL never has `?` inside a string literal. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export function toIso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

export function toIsoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value);
}
