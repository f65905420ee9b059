/**
 * The `postgres` check: connects with one short-lived `pg` Client per probe,
 * runs a query, and reports the server's replication role and lag.
 *
 * - primary: `replicas` lists every standby in `pg_stat_replication` with the
 *   bytes it still has to replay (`pg_current_wal_lsn() - replay_lsn`), which is
 *   the lag that matters for failover, and `replay_lag` in seconds.
 * - replica: `lagBytes` is what it received but has not replayed yet;
 *   `lagSeconds` is the age of the last replayed transaction, except that a
 *   replica that is streaming and has replayed all it received is 0 s behind
 *   (an idle primary writes no transactions, so the raw age would grow forever;
 *   the raw value stays in `replayAgeSeconds`). `walReceiverStatus` says
 *   whether it streams.
 * - `maxLagBytes` applies to a replica's own `lagBytes`: a primary's health
 *   does not depend on how far its standbys are behind.
 *
 * Reading `pg_stat_replication` in full needs superuser or the `pg_monitor`
 * role; otherwise its LSN columns are null and lag is not reported.
 */
import pg from 'pg';
import type { CheckContext, CheckResult, CheckType, FailureReason, Observations } from '../types.js';
import { classifyError, onDeadline, Stopwatch, timeoutMessage } from './outcome.js';

export interface PostgresCheckSpec {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Defaults to `postgres`. */
  database?: string;
  /** A replica whose received-but-not-replayed WAL exceeds this fails with `condition`. */
  maxLagBytes?: number;
  expectRole?: 'primary' | 'replica';
}

export interface StandbyObservation {
  application_name: string;
  client_addr: string | null;
  state: string;
  sync_state: string;
  /** Bytes of WAL the standby has not replayed yet; null without `pg_monitor`. */
  lagBytes: number | null;
  /** `replay_lag` in seconds; null when the standby is idle and caught up. */
  replayLagSeconds: number | null;
}

const MAX_STANDBYS = 64;

const ROLE_SQL = 'SELECT 1 AS ok, pg_is_in_recovery() AS in_recovery';

const PRIMARY_SQL = `
SELECT application_name, host(client_addr) AS client_addr, state, sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS lag_bytes,
       EXTRACT(EPOCH FROM replay_lag)::float8 AS replay_lag_seconds
  FROM pg_stat_replication
 ORDER BY application_name, client_addr
 LIMIT ${MAX_STANDBYS}`;

const REPLICA_SQL = `
SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 AS lag_bytes,
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS replay_age_seconds,
       (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status,
       (SELECT sender_host FROM pg_stat_wal_receiver LIMIT 1) AS sender_host,
       (SELECT sender_port FROM pg_stat_wal_receiver LIMIT 1) AS sender_port`;

interface ReplicaRow {
  lag_bytes: number | null;
  replay_age_seconds: number | null;
  receiver_status: string | null;
  sender_host: string | null;
  sender_port: number | null;
}

interface PrimaryRow {
  application_name: string;
  client_addr: string | null;
  state: string;
  sync_state: string;
  lag_bytes: number | null;
  replay_lag_seconds: number | null;
}

async function observePrimary(client: pg.Client): Promise<Observations> {
  const { rows } = await client.query<PrimaryRow>(PRIMARY_SQL);
  const replicas: StandbyObservation[] = rows.map((row) => ({
    application_name: row.application_name,
    client_addr: row.client_addr,
    state: row.state,
    sync_state: row.sync_state,
    lagBytes: row.lag_bytes,
    replayLagSeconds: row.replay_lag_seconds,
  }));
  return { role: 'primary', replicas };
}

async function observeReplica(client: pg.Client): Promise<Observations> {
  const { rows } = await client.query<ReplicaRow>(REPLICA_SQL);
  const row = rows[0];
  if (!row) return { role: 'replica' };
  const streaming = row.receiver_status === 'streaming';
  const caughtUp = streaming && row.lag_bytes === 0;
  const lagSeconds = caughtUp ? 0 : row.replay_age_seconds ?? undefined;
  return {
    role: 'replica',
    lagBytes: row.lag_bytes ?? undefined,
    lagSeconds: lagSeconds === undefined ? undefined : Math.max(0, lagSeconds),
    replayAgeSeconds: row.replay_age_seconds,
    walReceiverStatus: row.receiver_status,
    streaming,
    upstream: row.sender_host === null ? null : `${row.sender_host}:${row.sender_port ?? ''}`,
  };
}

async function observe(client: pg.Client): Promise<Observations> {
  await client.connect();
  const { rows } = await client.query<{ ok: number; in_recovery: boolean }>(ROLE_SQL);
  return rows[0]?.in_recovery ? observeReplica(client) : observePrimary(client);
}

/** The first failed condition, as one line; undefined when all hold. */
function failedCondition(spec: PostgresCheckSpec, observations: Observations): string | undefined {
  if (spec.expectRole !== undefined && observations.role !== spec.expectRole) {
    return `condition failed: role == ${spec.expectRole} (was ${observations.role ?? 'unknown'})`;
  }
  if (spec.maxLagBytes !== undefined && observations.role === 'replica') {
    const lag = observations.lagBytes;
    if (lag === undefined) return `condition failed: lagBytes <= ${spec.maxLagBytes} (lag unknown)`;
    if (lag > spec.maxLagBytes) return `condition failed: lagBytes <= ${spec.maxLagBytes} (was ${lag})`;
  }
  return undefined;
}

interface ErrorLike { code?: unknown; message?: unknown; errors?: unknown }

function errorCode(err: ErrorLike): string | undefined {
  if (typeof err.code === 'string') return err.code;
  // Node's happy-eyeballs connect reports an AggregateError of every attempt.
  if (Array.isArray(err.errors) && err.errors.length > 0) return errorCode(err.errors[0] as ErrorLike);
  return undefined;
}

const SQLSTATE_REASONS: Record<string, FailureReason> = {
  '28P01': 'auth', // invalid_password
  '28000': 'auth', // invalid_authorization_specification (pg_hba rejects)
  '57014': 'timeout', // query_canceled: statement_timeout
};

export function classifyPostgresError(err: unknown): FailureReason {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const code = errorCode(e) ?? '';
  const bySqlState = SQLSTATE_REASONS[code];
  if (bySqlState) return bySqlState;
  const bySocket = classifyError({ code, message: e.message }).reason;
  if (bySocket !== 'error') return bySocket;
  const message = typeof e.message === 'string' ? e.message : '';
  if (/timeout|timed out/i.test(message)) return 'timeout';
  if (/^SASL|password/i.test(message)) return 'auth';
  return 'error';
}

function describe(err: unknown, password: string | undefined): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  let message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = errorCode(e);
  if (code && !message.includes(code)) message = `${message} (${code})`;
  if (password) message = message.split(password).join('***');
  return message.split('\n')[0] ?? message;
}

/** Resolves at the check's deadline (signal or timeoutMs, whichever first); `dispose` clears the timer and listener. */
function whenDeadline(context: CheckContext): { promise: Promise<'deadline'>; fired(): boolean; dispose(): void } {
  let fired = false;
  let dispose = (): void => undefined;
  const promise = new Promise<'deadline'>((resolve) => {
    dispose = onDeadline(context, () => {
      fired = true;
      resolve('deadline');
    });
  });
  return { promise, fired: () => fired, dispose: () => dispose() };
}

function newClient(spec: PostgresCheckSpec, timeoutMs: number): pg.Client {
  const client = new pg.Client({
    host: spec.host,
    port: spec.port,
    user: spec.user,
    password: spec.password ?? '',
    database: spec.database ?? 'postgres',
    application_name: 'bulwark-probe',
    connectionTimeoutMillis: Math.max(1, timeoutMs),
    statement_timeout: Math.max(1, timeoutMs),
    query_timeout: Math.max(1, timeoutMs),
  });
  // Errors surface through connect()/query(); a late socket error must not crash the daemon.
  client.on('error', () => undefined);
  return client;
}

function destroy(client: pg.Client): void {
  client.connection.stream.destroy();
  client.end().catch(() => undefined);
}

async function runPostgresCheck(spec: PostgresCheckSpec, context: CheckContext): Promise<CheckResult> {
  const watch = new Stopwatch();
  if (context.signal.aborted) return watch.fail('timeout', timeoutMessage(context));
  const deadline = whenDeadline(context);
  const client = newClient(spec, context.timeoutMs);
  try {
    const outcome = await Promise.race([observe(client), deadline.promise]);
    if (outcome === 'deadline') {
      destroy(client);
      return watch.fail('timeout', timeoutMessage(context));
    }
    const failed = failedCondition(spec, outcome);
    const result = failed ? watch.fail('condition', failed, outcome) : watch.pass(outcome);
    // Terminate politely so the server logs no broken connection, but never past the deadline.
    const ended = client.end().then(() => 'ended' as const, () => 'ended' as const);
    if ((await Promise.race([ended, deadline.promise])) === 'deadline') destroy(client);
    return result;
  } catch (err) {
    destroy(client);
    if (deadline.fired()) return watch.fail('timeout', timeoutMessage(context));
    return watch.fail(classifyPostgresError(err), describe(err, spec.password));
  } finally {
    deadline.dispose();
  }
}

export const postgresCheck: CheckType<PostgresCheckSpec> = {
  type: 'postgres',
  run: runPostgresCheck,
};
