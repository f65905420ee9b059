/**
 * The PostgreSQL client every room that talks to PostgreSQL shares (postgres-ha,
 * backup): one short-lived connection. Quoting is in pg-quote.ts, apart, so that
 * archive_command's path quotes without loading the pg library.
 */
import pg from 'pg';

/** Where to connect and as whom. */
export interface PgTarget {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** `postgres` when not given. */
  database?: string;
}

export interface PgClientOptions {
  /** `application_name`, as pg_stat_activity shows the connection. */
  applicationName: string;
  connectTimeoutMs: number;
  /** Bound on every statement (pg's query_timeout); none when not given. */
  queryTimeoutMs?: number;
  /** Ends the connection once this passes, which fails the statement in flight; none when not given. */
  deadlineMs?: number;
  /** A physical replication connection (IDENTIFY_SYSTEM and the like). */
  replication?: boolean;
  /** Aborting ends the connection, which fails the statement in flight. */
  signal?: AbortSignal;
  /** What a failed connect throws instead of pg's own error (the caller's message and hint). */
  connectFailed?: (err: unknown) => unknown;
}

/**
 * Runs `fn` on a fresh connection and always closes it; no timer or listener
 * outlives the call. Errors from `fn` pass through unchanged: what they mean
 * is the caller's to say.
 */
export async function withPgClient<T>(target: PgTarget, options: PgClientOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const { signal } = options;
  const client = new pg.Client({
    host: target.host, port: target.port, user: target.user, password: target.password,
    database: target.database ?? 'postgres', connectionTimeoutMillis: options.connectTimeoutMs,
    ...(options.queryTimeoutMs === undefined ? {} : { query_timeout: options.queryTimeoutMs }),
    application_name: options.applicationName, ...(options.replication ? { replication: true } : {}),
  } as pg.ClientConfig);
  client.on('error', () => undefined);
  const end = (): void => {
    void client.end().catch(() => undefined);
  };
  const timer = options.deadlineMs === undefined ? undefined : setTimeout(end, options.deadlineMs);
  signal?.addEventListener('abort', end, { once: true });
  try {
    try {
      await client.connect();
    } catch (err) {
      throw options.connectFailed ? options.connectFailed(err) : err;
    }
    return await fn(client);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', end);
    await client.end().catch(() => undefined);
  }
}
