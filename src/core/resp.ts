/**
 * RESP2 over node:net: one connection, commands answered in order, reads
 * bounded. Shared by the `redis` probe (one connection, three commands) and
 * redis-ha (Sentinel queries and `+switch-master` subscriptions, which arrive
 * unasked and go to `onMessage`). See src/probes/checks/redis.ts for why not
 * node-redis.
 */
import { connect, type Socket } from 'node:net';

export type RespValue = string | number | null | RespValue[];

export class ProtocolError extends Error {}

/** An error reply (`-ERR ...`); `code` is its first word (NOAUTH, WRONGPASS, ERR, ...). */
export class RedisReplyError extends Error {
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

export function encode(args: string[]): string {
  return `*${args.length}${CRLF}${args.map((a) => `$${Buffer.byteLength(a)}${CRLF}${a}${CRLF}`).join('')}`;
}

export interface RespConnectionOptions {
  /** Replies nobody asked for (pub/sub messages). With it, the bound is on the bytes buffered, not on the total read. */
  onMessage?(value: RespValue): void;
  /** Called once when the connection fails or closes. */
  onClose?(err: Error): void;
}

/** One connection, commands in order, replies matched in order, reads bounded. */
export class RespConnection {
  private readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private received = 0;
  private readonly waiters: Array<{ resolve(v: RespValue): void; reject(e: Error): void }> = [];
  private failure: Error | undefined;
  private onConnectFailure: ((err: Error) => void) | undefined;

  constructor(host: string, port: number, private readonly maxBytes: number, private readonly options: RespConnectionOptions = {}) {
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
    this.received = this.options.onMessage ? this.buffer.length + chunk.length : this.received + chunk.length;
    if (this.received > this.maxBytes) return this.fail(new ProtocolError(`reply larger than ${this.maxBytes} bytes`));
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      for (let reply = parseAt(this.buffer, 0); reply; reply = parseAt(this.buffer, 0)) {
        this.buffer = this.buffer.subarray(reply.end);
        const waiter = this.waiters.shift();
        if (!waiter && this.options.onMessage && !(reply.value instanceof RedisReplyError)) {
          this.options.onMessage(reply.value);
          continue;
        }
        if (!waiter) throw new ProtocolError('reply without a command');
        if (reply.value instanceof RedisReplyError) waiter.reject(reply.value);
        else waiter.resolve(reply.value);
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private fail(err: Error): void {
    if (this.failure === undefined) this.options.onClose?.(err);
    this.failure ??= err;
    this.onConnectFailure?.(this.failure);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
    this.socket.destroy();
  }
}

