import pg from 'pg';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { secretRegistry } from '../core/secrets.js';
import { numberPlaceholders, type Row, type SqlConnection, type SqlDriver, type SqlExecutor } from './driver.js';
import { SqlStore } from './sql-store.js';
import type { Store } from './store.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`; the password never reaches a message. */
  url: string;
  connectTimeoutMs?: number;
  /** Server-side limit for any one statement. */
  statementTimeoutMs?: number;
  poolSize?: number;
  logger?: Logger;
}

/** Arbitrary but fixed: every Bulwark instance must take the same lock. ("Bulw") */
const MIGRATION_LOCK_KEY = 0x42756c77;
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH']);
/** SQLSTATEs that mean "cannot use this server": connection, auth, missing database, shutdown. */
const CONNECTION_SQLSTATE = /^(08|28|3D|57P0)/;

interface Target {
  /** `user@host:port/db`: safe to print. */
  display: string;
  secrets: string[];
}

export function describeTarget(url: string): Target {
  try {
    const u = new URL(url);
    const secrets = u.password ? [u.password, decodeURIComponent(u.password)] : [];
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return { display: `${user}${u.host}${u.pathname}`, secrets };
  } catch {
    return { display: 'the configured PostgreSQL URL', secrets: [url] };
  }
}

function scrub(text: string, secrets: readonly string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((out, s) => out.split(s).join('[REDACTED]'), text);
}

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (CONNECTION_ERRNOS.has(code) || CONNECTION_SQLSTATE.test(code))) return true;
  const message = errorMessage(err);
  return /timeout exceeded when trying to connect|Connection terminated|connect ECONN/i.test(message);
}

function unavailable(target: Target, err: unknown): BulwarkError {
  const reason = scrub(errorMessage(err), target.secrets);
  return new BulwarkError('STORE_UNAVAILABLE', `cannot use the PostgreSQL store at ${target.display}: ${reason}`, {
    hint: 'check that PostgreSQL is running and reachable, and that the user, password and database in --postgres are right',
    // The cause is dropped: driver errors can echo connection parameters.
    context: { target: target.display },
  });
}

function executor(q: pg.Pool | pg.PoolClient, target: Target): SqlExecutor {
  // No params means pg's simple protocol, which is what lets `exec` run several statements.
  const query = async (sql: string, params?: readonly unknown[]): Promise<pg.QueryResult> => {
    try {
      return params ? await q.query(numberPlaceholders(sql), params as unknown[]) : await q.query(sql);
    } catch (err) {
      throw isConnectionError(err) ? unavailable(target, err) : err;
    }
  };
  return {
    all: async <T = Row>(sql: string, params: readonly unknown[] = []) => (await query(sql, params)).rows as T[],
    run: async (sql, params = []) => (await query(sql, params)).rowCount ?? 0,
    exec: async (script) => { await query(script); },
  };
}

async function inTransaction<T>(client: pg.PoolClient, target: Target, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  const tx = executor(client, target);
  await tx.exec('BEGIN');
  try {
    const result = await fn(tx);
    await tx.exec('COMMIT');
    return result;
  } catch (err) {
    await tx.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

function clientConnection(client: pg.PoolClient, target: Target): SqlConnection {
  return { ...executor(client, target), transaction: (fn) => inTransaction(client, target, fn) };
}

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgres' as const;
  private readonly base: SqlExecutor;
  private ended = false;

  constructor(private readonly pool: pg.Pool, private readonly target: Target) {
    this.base = executor(pool, target);
  }

  all<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.base.all<T>(sql, params);
  }

  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.base.run(sql, params);
  }

  exec(script: string): Promise<void> {
    return this.base.exec(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await inTransaction(client, this.target, fn);
    } finally {
      client.release();
    }
  }

  async withMigrationLock<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T> {
    const client = await this.connect();
    const conn = clientConnection(client, this.target);
    try {
      await conn.all('SELECT pg_advisory_lock(?)', [MIGRATION_LOCK_KEY]);
      try {
        return await fn(conn);
      } finally {
        await conn.all('SELECT pg_advisory_unlock(?)', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      client.release();
    }
  }

  isUniqueViolation(err: unknown): boolean {
    return (err as { code?: unknown } | null)?.code === '23505';
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw unavailable(this.target, err);
    }
  }
}

/** Connects (and checks the connection) to a PostgreSQL store. Call `migrate()` before use. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const logger = (options.logger ?? silentLogger()).child({ subsystem: 'store', dialect: 'postgres' });
  const target = describeTarget(options.url);
  target.secrets.forEach((s) => secretRegistry.add(s));
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: 'bulwark',
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', (err) => logger.warn({ reason: scrub(errorMessage(err), target.secrets) }, 'postgres connection lost'));
  const driver = new PostgresDriver(pool, target);
  try {
    await driver.all('SELECT 1');
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw err instanceof BulwarkError ? err : unavailable(target, err);
  }
  return new SqlStore(driver, logger);
}
