import { Agent, request } from 'undici';
import { BulwarkError } from '../core/errors.js';
import { CallDeadline } from './deadline.js';
import { isSafeElsewhere, isStaleToken, isTransient, parseStatus, statusError, unreachableError } from './etcd-errors.js';

export interface CallOptions {
  signal?: AbortSignal;
  /** Bound on the whole call, every endpoint tried included. */
  timeoutMs?: number;
}

export interface TransportOptions {
  endpoints: readonly string[];
  timeoutMs: number;
  username?: string;
  password?: string;
}

interface Endpoint {
  url: URL;
  /** scheme://host:port: never the userinfo a URL may carry. */
  display: string;
}

/** One endpoint failed in a way that lets the call go on to the next. */
class AttemptError extends Error {
  constructor(readonly kind: 'unsent' | 'ambiguous' | 'refused', readonly detail: string, options?: { cause?: unknown }) {
    super(detail, options);
  }
}

const AUTHENTICATE = '/v3/auth/authenticate';

/** idempotent: may go on to another endpoint after an ambiguous failure; split: share the time among endpoints. */
interface Policy {
  idempotent: boolean;
  split: boolean;
}

/** Errors that prove the request never left this host. */
const UNSENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * POSTs JSON to etcd's gRPC gateway on the first endpoint that serves it,
 * starting with the last one that worked. A request that surely was not sent
 * (refused, no route) or that etcd refused before proposing it ("no leader")
 * goes on to the next endpoint. One that may have been applied (a reset or a
 * timeout mid-way) goes on only if it is idempotent: idempotent calls give each
 * endpoint an equal share of the time left, since a paused member accepts
 * connections and never answers; a write keeps the whole budget on one endpoint.
 * Any failure moves the endpoint to the back, so the next call starts elsewhere.
 */
export class EtcdTransport {
  private readonly endpoints: Endpoint[];
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, pipelining: 1 });
  private preferred = 0;
  private token: string | undefined;

  constructor(private readonly options: TransportOptions) {
    if (options.endpoints.length === 0) {
      throw new BulwarkError('USAGE', 'no etcd endpoints given', { hint: 'list at least one client URL, e.g. http://127.0.0.1:2379' });
    }
    this.endpoints = options.endpoints.map(toEndpoint);
  }

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** The endpoint the next call tries first. */
  currentEndpoint(): string {
    return this.endpoints[this.preferred]?.display ?? '';
  }

  async call(path: string, payload: unknown, idempotent: boolean, options: CallOptions = {}): Promise<unknown> {
    const deadline = new CallDeadline(options.signal, options.timeoutMs ?? this.options.timeoutMs);
    try {
      return await this.onEndpoints(path, { idempotent, split: idempotent }, deadline, (endpoint, signal) => this.unary(endpoint, path, payload, signal, idempotent));
    } finally {
      deadline.dispose();
    }
  }

  /** Opens a streaming endpoint; `deadline` bounds the opening, its signal the stream's life. */
  async stream(path: string, payload: unknown, deadline: CallDeadline): Promise<{ body: AsyncIterable<Buffer>; endpoint: string }> {
    // Not split: the stream lives on the caller's deadline, so no per-endpoint clock applies to it.
    return this.onEndpoints(path, { idempotent: true, split: false }, deadline, async (endpoint) => {
      const res = await this.post(endpoint, path, payload, deadline.signal);
      if (res.statusCode !== 200) {
        this.check(await this.unaryBody(res, endpoint, path), endpoint, path, true);
        throw new BulwarkError('COORDINATION_REJECTED', `${endpoint.display} answered HTTP ${res.statusCode} to ${path}`, {
          hint: 'point the coordination endpoints at etcd client URLs; Bulwark needs etcd 3.4 or later', context: { endpoint: endpoint.display },
        });
      }
      return { body: res.body as AsyncIterable<Buffer>, endpoint: endpoint.display };
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async onEndpoints<T>(path: string, policy: Policy, deadline: CallDeadline, attempt: (endpoint: Endpoint, signal: AbortSignal) => Promise<T>): Promise<T> {
    const tried: string[] = [];
    let ambiguous = false;
    let current = this.preferred;
    try {
      if (path !== AUTHENTICATE) await this.ensureToken(deadline.signal);
      const order = this.order();
      for (const [i, index] of order.entries()) {
        current = index;
        const endpoint = this.endpoints[index] as Endpoint;
        // Each endpoint gets a share of the time left, so one hung member cannot use it all up.
        const share = policy.split ? deadline.remainingMs() / (order.length - i) : deadline.remainingMs();
        const own = new CallDeadline(deadline.signal, share);
        try {
          const result = await attempt(endpoint, own.signal);
          this.preferred = index;
          return result;
        } catch (err) {
          if (deadline.signal.aborted) throw err;
          const failure = own.timedOut ? new AttemptError('ambiguous', `no answer within ${Math.round(share)} ms`) : err;
          if (!(failure instanceof AttemptError)) throw failure;
          tried.push(`${endpoint.display} (${failure.detail})`);
          this.demote(index);
          ambiguous ||= failure.kind === 'ambiguous';
          if (failure.kind === 'ambiguous' && !policy.idempotent) break;
        } finally {
          own.dispose();
        }
      }
      throw unreachableError(path, tried, deadline.timeoutMs, ambiguous && !policy.idempotent);
    } catch (err) {
      if (deadline.timedOut) {
        this.demote(current);
        tried.push(`${this.endpoints[current]?.display ?? '?'} (no answer)`);
        throw unreachableError(path, tried, deadline.timeoutMs, !policy.idempotent);
      }
      if (deadline.signal.aborted) throw deadline.signal.reason;
      throw err;
    }
  }

  private async unary(endpoint: Endpoint, path: string, payload: unknown, signal: AbortSignal, idempotent: boolean): Promise<unknown> {
    let res = await this.post(endpoint, path, payload, signal);
    let body = await this.unaryBody(res, endpoint, path);
    const status = parseStatus(body);
    if (status && isStaleToken(status) && this.options.username !== undefined) {
      this.token = undefined;
      await this.ensureToken(signal);
      res = await this.post(endpoint, path, payload, signal);
      body = await this.unaryBody(res, endpoint, path);
    }
    return this.check(body, endpoint, path, idempotent);
  }

  /** The body if it is no error; else the error, as one the next endpoint may fix or as final. */
  private check(body: unknown, endpoint: Endpoint, path: string, idempotent: boolean): unknown {
    const status = parseStatus(body);
    if (!status) return body;
    if (isSafeElsewhere(status) || (idempotent && isTransient(status))) throw new AttemptError('refused', status.message);
    throw statusError(status, path, endpoint.display);
  }

  private async post(endpoint: Endpoint, path: string, payload: unknown, signal: AbortSignal) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token !== undefined && path !== AUTHENTICATE) headers.authorization = this.token;
    try {
      return await request(new URL(path, endpoint.url), {
        method: 'POST', dispatcher: this.agent, headers, body: JSON.stringify(payload), signal,
        headersTimeout: 0, bodyTimeout: 0,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw attemptError(err);
    }
  }

  /** The JSON body; streaming endpoints asked for one answer wrap it as `{result}`. */
  private async unaryBody(res: Awaited<ReturnType<typeof request>>, endpoint: Endpoint, path: string): Promise<unknown> {
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw new AttemptError('ambiguous', `connection lost while reading the answer: ${(err as Error).message}`, { cause: err });
    }
    let body: unknown;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      throw new BulwarkError('COORDINATION_REJECTED', `${endpoint.display} answered HTTP ${res.statusCode} to ${path} with something that is not etcd's JSON`, {
        hint: 'point the coordination endpoints at etcd client URLs (port 2379 by default, not the peer port); Bulwark needs etcd 3.4 or later',
        context: { endpoint: endpoint.display, status: res.statusCode },
      });
    }
    const result = (body as { result?: unknown }).result;
    return typeof result === 'object' && result !== null ? result : body;
  }

  private async ensureToken(signal: AbortSignal): Promise<void> {
    const { username, password } = this.options;
    if (username === undefined || this.token !== undefined) return;
    const deadline = new CallDeadline(signal, this.options.timeoutMs);
    let body: unknown;
    try {
      body = await this.onEndpoints(AUTHENTICATE, { idempotent: true, split: true }, deadline, (endpoint, attemptSignal) =>
        this.unary(endpoint, AUTHENTICATE, { name: username, password: password ?? '' }, attemptSignal, true));
    } finally {
      deadline.dispose();
    }
    const token = (body as { token?: unknown }).token;
    if (typeof token !== 'string') {
      throw new BulwarkError('COORDINATION_AUTH_FAILED', 'etcd accepted the credentials but sent no token', {
        hint: 'authentication is probably disabled on the etcd cluster; remove the coordination username and password',
      });
    }
    this.token = token;
  }

  private order(): number[] {
    return this.endpoints.map((_, i) => (this.preferred + i) % this.endpoints.length);
  }

  private demote(index: number): void {
    if (this.preferred === index) this.preferred = (index + 1) % this.endpoints.length;
  }
}

function toEndpoint(raw: string): Endpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BulwarkError('USAGE', 'an etcd endpoint is not a URL', { hint: 'write endpoints as http://host:port' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BulwarkError('USAGE', `etcd endpoint ${url.protocol}//${url.host} is not http(s)`, { hint: 'write endpoints as http://host:port' });
  }
  const display = `${url.protocol}//${url.host}`;
  return { url: new URL(display), display };
}

function attemptError(err: unknown): AttemptError {
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code ?? '';
  const detail = code ? `${code}` : (err as Error).message;
  return new AttemptError(UNSENT.has(code) ? 'unsent' : 'ambiguous', detail, { cause: err });
}
