import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Row, SqlConnection, SqlDriver, SqlExecutor } from './driver.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

export interface SqliteStoreOptions {
  path: string;
  /** How long a writer waits for another process's lock before failing. */
  busyTimeoutMs?: number;
  logger?: Logger;
}

/**
 * Transactions per database file in this process, run one at a time. A second
 * connection's BEGIN waits for the lock synchronously (busy_timeout), blocking
 * the event loop the first connection needs to finish: without this queue two
 * stores on one file in one process deadlock until the timeout.
 */
const txChains = new Map<string, Promise<unknown>>();

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;

  constructor(private readonly db: Database.Database, private readonly key: string) {}

  static open(path: string, busyTimeoutMs: number): SqliteDriver {
    const full = resolve(path);
    return new SqliteDriver(openDatabase(full, busyTimeoutMs), full);
  }

  async all<T = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.db.prepare(sql).all(...params) as T[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.db.prepare(sql).run(...params).changes;
  }

  async exec(script: string): Promise<void> {
    this.db.exec(script);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const result = (txChains.get(this.key) ?? Promise.resolve()).then(() => this.runTransaction(fn));
    const tail = result.catch(() => undefined);
    txChains.set(this.key, tail);
    void tail.then(() => {
      if (txChains.get(this.key) === tail) txChains.delete(this.key);
    });
    return result;
  }

  private async runTransaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // IMMEDIATE takes the write lock up front, so two processes cannot both
    // read "not applied" and then both write.
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = await fn(this);
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  withMigrationLock<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T> {
    // Each migration's IMMEDIATE transaction re-checks what is applied; that is the lock.
    return fn(this);
  }

  isUniqueViolation(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.floor(busyTimeoutMs)}`);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    throw new BulwarkError('STORE_UNAVAILABLE', `cannot open the SQLite store at ${path}: ${errorMessage(err)}`, {
      hint: 'check that the directory exists and is writable by this user, or point --data-dir at another directory',
      cause: err,
      context: { path },
    });
  }
}

/** Opens (creating if needed) a SQLite store. Call `migrate()` before use. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const logger = (options.logger ?? silentLogger()).child({ subsystem: 'store', dialect: 'sqlite' });
  return new SqlStore(SqliteDriver.open(options.path, options.busyTimeoutMs ?? 5000), logger);
}
