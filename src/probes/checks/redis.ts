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
import { connect, type Socket } from 'node:net';
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

type RespValue = string | number | null | RespValue[];

class ProtocolError extends Error {}

/** An error reply (`-ERR ...`); `code` is its first word (NOAUTH, WRONGPASS, ERR, ...). */
class RedisReplyError extends Error {
  readonly code: string;
  constructor(line: string) {
    super(line);
    this.code = line.split(' ', 1)[0] ?? '';
  }
}

const CRLF = '\r\n';

function integer(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new ProtocolError(`not a RESP integer: ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}

/** Parses one reply at `pos`; undefined when more bytes are needed. */
function parseAt(buf: Buffer, pos: number): { value: RespValue | RedisReplyError; end: number } | undefined {
  if (pos >= buf.length) return undefined;
  const lineEnd = buf.indexOf(CRLF, pos);
  if (lineEnd === -1) return undefined;
  const line = buf.toString('utf8', pos + 1, lineEnd);
  const next = lineEnd + 2;
  switch (String.fromCharCode(buf[pos] ?? 0)) {
    case '+': return { value: line, end: next };
    case '-': return { value: new RedisReplyError(line), end: next };
    case ':': return { value: integer(line), end: next };
    case '$': {
      const length = integer(line);
      if (length === -1) return { value: null, end: next };
      if (length < 0) throw new ProtocolError(`bad bulk length ${length}`);
      if (buf.length < next + length + 2) return undefined;
      if (buf.toString('latin1', next + length, next + length + 2) !== CRLF) throw new ProtocolError('bulk string not terminated by CRLF');
      return { value: buf.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = integer(line);
      if (count === -1) return { value: null, end: next };
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseAt(buf, at);
        if (!item) return undefined;
        if (item.value instanceof RedisReplyError) throw new ProtocolError('error inside an array reply');
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      throw new ProtocolError(`not a RESP reply (first byte 0x${(buf[pos] ?? 0).toString(16).padStart(2, '0')})`);
  }
}

function encode(args: string[]): string {
  return `*${args.length}${CRLF}${args.map((a) => `$${Buffer.byteLength(a)}${CRLF}${a}${CRLF}`).join('')}`;
}

/** One connection, commands in order, replies matched in order, reads bounded. */
class RespConnection {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private received = 0;
  private readonly waiters: Array<{ resolve(v: RespValue): void; reject(e: Error): void }> = [];
  private failure: Error | undefined;
  private onConnectFailure: ((err: Error) => void) | undefined;

  constructor(host: string, port: number, private readonly maxBytes: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => this.fail(new ProtocolError('connection closed before a reply')));
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.onConnectFailure = reject;
      this.socket.once('connect', () => {
        this.onConnectFailure = undefined;
        resolve();
      });
    });
  }

  command(args: string[]): Promise<RespValue> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.socket.write(encode(args));
    });
  }

  destroy(err?: Error): void {
    this.fail(err ?? new Error('closed'));
  }

  private onData(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.maxBytes) return this.fail(new ProtocolError(`reply larger than ${this.maxBytes} bytes`));
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      for (let reply = parseAt(this.buffer, 0); reply; reply = parseAt(this.buffer, 0)) {
        this.buffer = this.buffer.subarray(reply.end);
        const waiter = this.waiters.shift();
        if (!waiter) throw new ProtocolError('reply without a command');
        if (reply.value instanceof RedisReplyError) waiter.reject(reply.value);
        else waiter.resolve(reply.value);
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.onConnectFailure?.(this.failure);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
    this.socket.destroy();
  }
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
