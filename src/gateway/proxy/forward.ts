import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { admission, withSetCookie } from './admission.js';
import { runAttempt, tlsVerifyCode, type AttemptResult } from './attempt.js';
import { Cancellation, TimeoutReason } from './cancellation.js';
import { clientResponseHeaders, normalizeIp, upstreamRequestHeaders } from './hop-headers.js';
import { sendError, type ProxyErrorCode, type ProxyErrorReply } from './proxy-errors.js';
import { ReplayableBody } from './replayable-body.js';
import type { AttemptOutcome, FailureKind, HttpProxyOptions, PickedUpstream, PickRequest, Upstream } from './types.js';
import type { UpstreamPools } from './upstream-pools.js';
import { sleep } from '../../core/time.js';

export interface ForwardDeps {
  options: HttpProxyOptions;
  pools: UpstreamPools;
  log: Logger;
}

type Response = Extract<AttemptResult, { kind: 'response' }>;
/** A response to relay, with the Set-Cookie its upstream's pick asked for. */
type Served = Response & { setCookie: string | undefined };
type Failure = { kind: FailureKind; durationMs: number; error: unknown };

const DEFAULT_RETRY_BUFFER = 64 * 1024;
const FAILURE_CODE: Record<FailureKind, ProxyErrorCode> = {
  connect_failure: 'UPSTREAM_CONNECT_FAILED',
  reset: 'UPSTREAM_RESET',
  timeout: 'UPSTREAM_TIMEOUT',
};

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Statuses worth asking the retry policy about; everything else is the final answer. */
function retryCandidate(status: number): boolean {
  return status >= 500 || status === 429;
}

function upstreamPath(upstream: Upstream, url: string | undefined): string {
  const base = upstream.url.pathname.replace(/\/$/, '');
  return `${base}${url ?? '/'}`;
}

export async function forward(req: IncomingMessage, res: ServerResponse, deps: ForwardDeps): Promise<void> {
  const { options } = deps;
  const refused = admission(req, options.hooks);
  if (refused) {
    sendError(res, refused, hasBody(req));
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > options.limits.maxBodyBytes) {
    sendError(res, { code: 'PAYLOAD_TOO_LARGE' }, true);
    return;
  }
  const cancel = new Cancellation();
  const timer = setTimeout(() => cancel.abort(new TimeoutReason('overall')), options.timeouts.overallMs);
  // One listener for the request's whole life: before the response it cancels the
  // attempts, while relaying it cuts the upstream body and frees the attempt's slot.
  let relayed: Served | undefined;
  res.once('close', () => {
    if (!res.writableFinished) cancel.abort(new Error('client went away'));
    relayed?.release();
  });
  try {
    const outcome = await attemptLoop(req, res, deps, cancel);
    if ('code' in outcome) {
      sendError(res, outcome, outcome.code === 'PAYLOAD_TOO_LARGE');
      return;
    }
    clearTimeout(timer);
    relayed = outcome;
    relay(outcome, res, cancel, deps.log);
  } finally {
    clearTimeout(timer);
  }
}

interface LoopState {
  tried: Set<string>;
  attempt: number;
  lastFailure: Failure | undefined;
  overloadedRetryAfterS: number | undefined;
}

async function attemptLoop(req: IncomingMessage, res: ServerResponse, deps: ForwardDeps, cancel: Cancellation): Promise<Served | ProxyErrorReply> {
  const { hooks, limits, timeouts } = deps.options;
  const clientIp = normalizeIp(req.socket.remoteAddress);
  const pickReq: PickRequest = { method: req.method ?? 'GET', headers: req.headers, clientIp };
  const proto = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  const headers = upstreamRequestHeaders(req.headers, { clientIp, proto });
  const body = hasBody(req) ? new ReplayableBody(req, limits.retryBufferBytes ?? DEFAULT_RETRY_BUFFER, limits.maxBodyBytes) : undefined;
  const state: LoopState = { tried: new Set(), attempt: 0, lastFailure: undefined, overloadedRetryAfterS: undefined };
  let upstream = hooks.pick(pickReq, state.tried);
  while (upstream !== undefined) {
    state.tried.add(upstream.id);
    const pool = deps.pools.get(upstream);
    const input = { upstream, pool, method: pickReq.method, path: upstreamPath(upstream, req.url), headers, body, hooks, perTryMs: timeouts.perTryMs, overallMs: timeouts.overallMs, parent: cancel };
    const result = await runAttempt(input);
    if (result.kind === 'aborted') return { code: 'UPSTREAM_TIMEOUT' };
    if (result.kind === 'body_too_large') return { code: 'PAYLOAD_TOO_LARGE' };
    if (result.kind === 'overloaded') {
      state.overloadedRetryAfterS = Math.min(state.overloadedRetryAfterS ?? Infinity, result.retryAfterS);
      upstream = hooks.pick(pickReq, state.tried);
      continue;
    }
    state.attempt++;
    const outcome: AttemptOutcome = result.kind === 'response' ? { kind: 'response', status: result.status, durationMs: result.durationMs } : { kind: result.kind, durationMs: result.durationMs };
    hooks.report(upstream.id, outcome);
    if (result.kind !== 'response') {
      state.lastFailure = result;
      logFailure(deps.log, upstream, result);
    } else if (!retryCandidate(result.status)) {
      return served(result, upstream);
    }
    const next = nextUpstream(state, outcome, pickReq, body, cancel, deps);
    if (next === undefined) return result.kind === 'response' ? served(result, upstream) : finalError(state, deps);
    if (result.kind === 'response') await discard(result);
    // The request's AbortSignal is made only here, for a retry that waits (Cancellation explains the cost).
    if (next.delayMs > 0) await sleep(next.delayMs, cancel.signal);
    if (cancel.aborted || res.destroyed) return { code: 'UPSTREAM_TIMEOUT' };
    upstream = next.upstream;
  }
  return finalError(state, deps);
}

/** When each upstream origin's refused certificate was last logged at warn. */
const tlsWarned = new Map<string, number>();
const TLS_WARN_EVERY_MS = 10_000;

/**
 * A certificate that fails verification is a configuration problem, not a
 * passing failure: it is logged at warn with the fix, once per 10 s per upstream.
 */
function logFailure(log: Logger, upstream: Upstream, failure: Failure): void {
  const verify = tlsVerifyCode(failure.error);
  const now = Date.now();
  if (verify === undefined || now - (tlsWarned.get(upstream.url.origin) ?? -Infinity) < TLS_WARN_EVERY_MS) {
    log.debug({ upstream: upstream.id, kind: failure.kind, err: failure.error }, 'upstream attempt failed');
    return;
  }
  tlsWarned.set(upstream.url.origin, now);
  const reason = (failure.error as Error).message;
  log.warn({ upstream: upstream.id, url: upstream.url.origin, code: verify, reason }, `the upstream's TLS certificate was refused (${verify}: ${reason}); set upstream_tls.ca to the CA that signed it and upstream_tls.servername to a name it is issued for`);
}

function served(result: Response, upstream: PickedUpstream): Served {
  return Object.assign(result, { setCookie: upstream.setCookie });
}

function nextUpstream(
  state: LoopState,
  outcome: AttemptOutcome,
  pickReq: PickRequest,
  body: ReplayableBody | undefined,
  cancel: Cancellation,
  deps: ForwardDeps,
): { upstream: PickedUpstream; delayMs: number } | undefined {
  if (cancel.aborted || (body !== undefined && !body.replayable)) return undefined;
  const status = outcome.kind === 'response' ? outcome.status : undefined;
  const decision = deps.options.hooks.shouldRetry({ attempt: state.attempt, method: pickReq.method, outcome, status });
  if (!decision.retry) return undefined;
  const upstream = deps.options.hooks.pick(pickReq, state.tried);
  return upstream === undefined ? undefined : { upstream, delayMs: decision.delayMs };
}

function finalError(state: LoopState, deps: ForwardDeps): ProxyErrorReply {
  if (state.lastFailure) return { code: tlsVerifyCode(state.lastFailure.error) ? 'UPSTREAM_TLS_FAILED' : FAILURE_CODE[state.lastFailure.kind] };
  if (state.overloadedRetryAfterS !== undefined) return { code: 'UPSTREAM_OVERLOADED', retryAfterS: state.overloadedRetryAfterS };
  return { code: 'NO_UPSTREAM_AVAILABLE', retryAfterS: deps.options.noUpstreamRetryAfterS ?? 1 };
}

async function discard(result: Response): Promise<void> {
  try {
    await result.exchange.discard();
  } finally {
    result.release();
  }
}

/** Streams the chosen response to the client; the request's close listener ends it early. */
function relay(result: Served, res: ServerResponse, cancel: Cancellation, log: Logger): void {
  const { exchange } = result;
  const onDrain = (): void => exchange.resume();
  cancel.onAbort((reason) => exchange.cancel(reason));
  res.writeHead(result.status, withSetCookie(clientResponseHeaders(result.headers), result.setCookie));
  exchange.attach({
    write: (chunk) => {
      const open = res.write(chunk);
      if (!open) res.once('drain', onDrain);
      return open;
    },
    end: () => res.end(),
    fail: (err) => {
      log.debug({ err }, 'response stream ended early');
      res.destroy();
    },
  });
}
