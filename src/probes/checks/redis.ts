/**
 * The `redis` check: AUTH (when a password is given), PING, then the role and
 * replication offsets from `INFO replication`.
 *
 * Client choice: a minimal RESP2 implementation over node:net, not node-redis.
 * A probe is one connection, three commands and a close. node-redis is built
 * for long-lived clients: a reconnect strategy, an offline queue, its own
 * connect and socket timeouts and error events, all of which would have to be
 * switched off or raced against the probe's AbortSignal to get an exact
 * deadline and a precise reason (refused vs auth vs protocol). Speaking RESP
 * directly takes ~120 lines, adds no runtime dependency, bounds what is read
 * (DEFAULT_MAX_BODY_BYTES) and stops the moment the signal aborts.
 *
 * - primary (`role:master`): `replicas` lists each connected replica with its
 *   acknowledged `offset`, `lagBytes` = master_repl_offset - offset, and
 *   `lagSeconds` (seconds since its last acknowledgement).
 * - replica (`role:slave`): `masterLinkStatus` (up/down), `slaveReplOffset`,
 *   `masterLastIoSecondsAgo`, `upstream`.
 */
import { ProtocolError, RedisReplyError, RespConnection } from '../../core/resp.js';
import { DEFAULT_MAX_BODY_BYTES, type CheckContext, type CheckResult, type CheckType, type FailureReason, type Observations } from '../types.js';
import { classifyError, onDeadline, Stopwatch, timeoutMessage } from './outcome.js';

export interface RedisCheckSpec {
  host: string;
  port: number;
  /** ACL user (Redis 6+); without it AUTH uses the default user. */
  username?: string;
  password?: string;
  expectRole?: 'primary' | 'replica';
}

export interface RedisReplicaObservation {
  ip: string;
  port: number;
  state: string;
  offset: number;
  /** master_repl_offset minus this replica's acknowledged offset. */
  lagBytes: number;
  /** Seconds since the replica last acknowledged (Redis' `lag` field). */
  lagSeconds: number;
}

/** `INFO` text as key → value; `# Section` lines and blanks skipped. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (line.startsWith('#') || colon <= 0) continue;
    fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function num(value: string | undefined): number | undefined {
  return value !== undefined && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
}

function parseReplicaLine(value: string, masterOffset: number): RedisReplicaObservation {
  const kv = new Map(value.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
  }));
  const offset = num(kv.get('offset')) ?? 0;
  return {
    ip: kv.get('ip') ?? '',
    port: num(kv.get('port')) ?? 0,
    state: kv.get('state') ?? '',
    offset,
    lagBytes: Math.max(0, masterOffset - offset),
    lagSeconds: num(kv.get('lag')) ?? 0,
  };
}

export function replicationObservations(info: Map<string, string>): Observations {
  const role = info.get('role');
  if (role === 'master') {
    const masterReplOffset = num(info.get('master_repl_offset')) ?? 0;
    const replicas = [...info.entries()]
      .filter(([key]) => /^slave\d+$/.test(key))
      .map(([, value]) => parseReplicaLine(value, masterReplOffset));
    return { role: 'primary', masterReplOffset, connectedReplicas: num(info.get('connected_slaves')) ?? replicas.length, replicas };
  }
  if (role === 'slave') {
    return {
      role: 'replica',
      masterLinkStatus: info.get('master_link_status'),
      slaveReplOffset: num(info.get('slave_repl_offset')),
      masterLastIoSecondsAgo: num(info.get('master_last_io_seconds_ago')),
      masterSyncInProgress: info.get('master_sync_in_progress') === '1',
      upstream: `${info.get('master_host') ?? ''}:${info.get('master_port') ?? ''}`,
    };
  }
  throw new ProtocolError(`INFO replication has no role:master or role:slave (role ${JSON.stringify(role ?? null)})`);
}

export function classifyRedisError(err: unknown): FailureReason {
  if (err instanceof ProtocolError) return 'protocol';
  if (err instanceof RedisReplyError) {
    if (err.code === 'NOAUTH' || err.code === 'WRONGPASS') return 'auth';
    return /invalid password|called without any password/i.test(err.message) ? 'auth' : 'error';
  }
  const first = err instanceof AggregateError ? err.errors[0] as unknown : err;
  return classifyError(first).reason;
}

async function observe(connection: RespConnection, spec: RedisCheckSpec): Promise<Observations> {
  await connection.connected();
  if (spec.password !== undefined) {
    await connection.command(spec.username !== undefined ? ['AUTH', spec.username, spec.password] : ['AUTH', spec.password]);
  }
  const pong = await connection.command(['PING']);
  if (pong !== 'PONG') throw new ProtocolError(`PING answered ${JSON.stringify(pong)}`);
  const info = await connection.command(['INFO', 'replication']);
  if (typeof info !== 'string') throw new ProtocolError('INFO did not answer a bulk string');
  return replicationObservations(parseInfo(info));
}

function describe(err: unknown, password: string | undefined): string {
  let message = err instanceof Error ? err.message : String(err);
  if (message === '' && err instanceof AggregateError) message = err.errors.map((e: Error) => e.message).join('; ');
  if (password) message = message.split(password).join('***');
  return message.split('\n')[0] ?? message;
}

async function runRedisCheck(spec: RedisCheckSpec, context: CheckContext): Promise<CheckResult> {
  const watch = new Stopwatch();
  if (context.signal.aborted) return watch.fail('timeout', timeoutMessage(context));
  const connection = new RespConnection(spec.host, spec.port, DEFAULT_MAX_BODY_BYTES);
  let timedOut = false;
  const cleanup = onDeadline(context, () => {
    timedOut = true;
    connection.destroy(new Error(timeoutMessage(context)));
  });
  try {
    const observations = await observe(connection, spec);
    if (spec.expectRole !== undefined && observations.role !== spec.expectRole) {
      return watch.fail('condition', `condition failed: role == ${spec.expectRole} (was ${observations.role ?? 'unknown'})`, observations);
    }
    return watch.pass(observations);
  } catch (err) {
    if (timedOut) return watch.fail('timeout', timeoutMessage(context));
    return watch.fail(classifyRedisError(err), describe(err, spec.password));
  } finally {
    cleanup();
    connection.destroy();
  }
}

export const redisCheck: CheckType<RedisCheckSpec> = {
  type: 'redis',
  run: runRedisCheck,
};
