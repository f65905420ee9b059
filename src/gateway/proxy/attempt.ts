import { Readable } from 'node:stream';
import type { Pool } from 'undici';
import type { HeaderMap } from './hop-headers.js';
import type { ReplayableBody } from './replayable-body.js';
import type { FailureKind, Release, RoutingHooks, Upstream } from './types.js';

export type AttemptResult =
  | { kind: 'response'; status: number; headers: HeaderMap; body: Readable & { dump?: () => Promise<void> }; durationMs: number; release: Release }
  | { kind: FailureKind; durationMs: number; error: unknown }
  | { kind: 'overloaded'; retryAfterS: number }
  | { kind: 'aborted' }
  | { kind: 'body_too_large' };

export interface AttemptInput {
  upstream: Upstream;
  pool: Pool;
  method: string;
  path: string;
  headers: HeaderMap;
  body: ReplayableBody | undefined;
  hooks: RoutingHooks;
  perTryMs: number;
  /** Aborted when the overall deadline passes or the client goes away. */
  parent: AbortSignal;
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export class TimeoutReason extends Error {
  constructor(readonly scope: 'per_try' | 'overall') {
    super(`${scope} timeout`);
    this.name = 'TimeoutReason';
  }
}

function classify(err: unknown, signal: AbortSignal): FailureKind {
  if (signal.aborted && signal.reason instanceof TimeoutReason) return 'timeout';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && CONNECT_CODES.has(code)) return 'connect_failure';
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return 'timeout';
  return 'reset';
}

const noop: Release = () => undefined;

async function acquireSlot(input: AttemptInput, signal: AbortSignal): Promise<Release | { overloaded: true; retryAfterS: number }> {
  if (!input.hooks.acquire) return noop;
  return input.hooks.acquire(input.upstream.id, signal);
}

/**
 * One try against one upstream, up to its response headers. The per-try timer stops
 * once headers arrive; from then on the response body is bounded by the pool's idle
 * timer and by the client, never by a deadline that would cut a long download.
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(input.parent.reason);
  if (input.parent.aborted) return { kind: 'aborted' };
  input.parent.addEventListener('abort', onParentAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new TimeoutReason('per_try')), input.perTryMs);
  const started = performance.now();
  let release: Release = noop;
  try {
    const slot = await acquireSlot(input, controller.signal);
    if (typeof slot !== 'function') return { kind: 'overloaded', retryAfterS: slot.retryAfterS };
    release = slot;
    const response = await input.pool.request({
      path: input.path,
      method: input.method,
      headers: input.headers,
      body: input.body ? Readable.from(input.body.open(), { objectMode: false }) : null,
      signal: controller.signal,
    });
    const durationMs = performance.now() - started;
    const result: AttemptResult = { kind: 'response', status: response.statusCode, headers: response.headers as HeaderMap, body: response.body, durationMs, release };
    release = noop;
    return result;
  } catch (error) {
    return failure(input, controller.signal, error, performance.now() - started);
  } finally {
    clearTimeout(timer);
    input.parent.removeEventListener('abort', onParentAbort);
    release();
  }
}

function failure(input: AttemptInput, signal: AbortSignal, error: unknown, durationMs: number): AttemptResult {
  if (input.body?.tooLarge) return { kind: 'body_too_large' };
  if (input.body?.clientFailed) return { kind: 'aborted' };
  if (input.parent.aborted && !(input.parent.reason instanceof TimeoutReason)) return { kind: 'aborted' };
  return { kind: classify(error, signal), durationMs, error };
}
