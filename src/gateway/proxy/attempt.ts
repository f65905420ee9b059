import { Readable } from 'node:stream';
import type { Pool } from 'undici';
import { TimeoutReason, type Cancellation } from './cancellation.js';
import { UpstreamExchange } from './exchange.js';
import type { HeaderMap } from './hop-headers.js';
import type { ReplayableBody } from './replayable-body.js';
import type { FailureKind, Release, RoutingHooks, Upstream } from './types.js';

export type AttemptResult =
  | { kind: 'response'; status: number; headers: HeaderMap; exchange: UpstreamExchange; durationMs: number; release: Release }
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
  overallMs: number;
  /** Aborted when the overall deadline passes or the client goes away. */
  parent: Cancellation;
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
/** OpenSSL's and Node's codes for an upstream certificate that fails verification. */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_REVOKED', 'INVALID_CA',
]);

/** The verification code when `err` is an upstream certificate that could not be verified. */
export function tlsVerifyCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TLS_VERIFY_CODES.has(code) ? code : undefined;
}

function classify(err: unknown, exchange: UpstreamExchange): FailureKind {
  if (exchange.cancelReason instanceof TimeoutReason) return 'timeout';
  const code = (err as { code?: unknown } | null)?.code;
  // A refused certificate reached no application, like a refused connection: safe to try elsewhere.
  if (typeof code === 'string' && (CONNECT_CODES.has(code) || TLS_VERIFY_CODES.has(code))) return 'connect_failure';
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return 'timeout';
  return 'reset';
}

const noop: Release = () => undefined;


/**
 * One try against one upstream, up to its response headers. The per-try timer stops
 * once headers arrive; from then on the response body is bounded by the pool's idle
 * timer and by the client, never by a deadline that would cut a long download.
 */
export async function runAttempt(input: AttemptInput): Promise<AttemptResult> {
  if (input.parent.aborted) return { kind: 'aborted' };
  const started = performance.now();
  // Awaited only when a concurrency limit queues the attempt: most attempts skip that turn of the event loop.
  let slot = input.hooks.acquire ? input.hooks.acquire(input.upstream.id, input.parent) : noop;
  if (slot instanceof Promise) slot = await slot;
  if (typeof slot !== 'function') return { kind: 'overloaded', retryAfterS: slot.retryAfterS };
  let release: Release = slot;
  const exchange = new UpstreamExchange();
  // A per-try limit as long as the overall one adds nothing: the overall timer cancels this exchange too.
  const timer = input.perTryMs < input.overallMs ? setTimeout(() => exchange.cancel(new TimeoutReason('per_try')), input.perTryMs) : undefined;
  const unlink = input.parent.onAbort((reason) => exchange.cancel(reason));
  try {
    input.pool.dispatch({ path: input.path, method: input.method, headers: input.headers, body: input.body ? Readable.from(input.body.open(), { objectMode: false }) : null }, exchange);
    const head = await exchange.head;
    const result: AttemptResult = { kind: 'response', status: head.status, headers: head.headers, exchange, durationMs: performance.now() - started, release };
    release = noop;
    return result;
  } catch (error) {
    return failure(input, exchange, error, performance.now() - started);
  } finally {
    clearTimeout(timer);
    unlink();
    release();
  }
}

function failure(input: AttemptInput, exchange: UpstreamExchange, error: unknown, durationMs: number): AttemptResult {
  if (input.body?.tooLarge) return { kind: 'body_too_large' };
  if (input.body?.clientFailed) return { kind: 'aborted' };
  if (input.parent.aborted && !(input.parent.reason instanceof TimeoutReason)) return { kind: 'aborted' };
  return { kind: classify(error, exchange), durationMs, error };
}
