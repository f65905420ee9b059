import pg from 'pg';
import { BulwarkError } from '../core/errors.js';
import { withPgClient } from '../core/pg.js';

export interface PgEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
}

export interface QueryOptions {
  signal?: AbortSignal;
  /** Bound on connecting and running every statement; 2000 ms by default. */
  timeoutMs?: number;
}

/**
 * One short-lived connection for a few statements, bounded by a timeout and a
 * signal: an abort ends the connection, which fails the statement in flight.
 */
export async function withClient<T>(endpoint: PgEndpoint, options: QueryOptions & { replication?: boolean }, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 2000;
  options.signal?.throwIfAborted();
  try {
    return await withPgClient(endpoint, {
      applicationName: 'bulwark-ha', connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs, deadlineMs: timeoutMs,
      ...(options.replication ? { replication: true } : {}), ...(options.signal ? { signal: options.signal } : {}),
    }, fn);
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new BulwarkError('BACKEND_UNAVAILABLE', `PostgreSQL at ${endpoint.host}:${endpoint.port}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err, hint: 'check that the member is running and reachable', context: { port: endpoint.port },
    });
  }
}

export async function queryRows<R extends pg.QueryResultRow>(endpoint: PgEndpoint, sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<R[]> {
  return withClient(endpoint, options, async (c) => (await c.query<R>(sql, params)).rows);
}

/**
 * IDENTIFY_SYSTEM over a physical replication connection: for a standby, the timeline of the WAL it
 * replayed and the further of its replayed and received positions on that timeline. SQL cannot tell
 * this once the WAL receiver stopped (pg_stat_wal_receiver is empty, the checkpoint's timeline may be
 * several timelines old); Patroni asks the same way.
 */
export async function identifySystem(endpoint: PgEndpoint, options: QueryOptions = {}): Promise<{ timeline: number; xlogpos: string }> {
  return withClient(endpoint, { ...options, replication: true }, async (c) => {
    const { rows } = await c.query<{ timeline: string | number; xlogpos: string }>('IDENTIFY_SYSTEM');
    const row = rows[0];
    if (!row) throw new BulwarkError('INTERNAL', 'IDENTIFY_SYSTEM returned no row');
    return { timeline: Number(row.timeline), xlogpos: row.xlogpos };
  });
}

/** Quoting lives in core/pg-quote.ts; re-exported for the operator commands' tests that import it from here. */
export { sqlLiteral } from '../core/pg-quote.js';
