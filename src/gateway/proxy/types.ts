import type { IncomingHttpHeaders } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Logger } from 'pino';
import type { Cancellation } from './cancellation.js';

export interface Upstream {
  id: string;
  url: URL;
}

/**
 * What `pick` returns: the upstream, and optionally a complete `Set-Cookie` value
 * (e.g. a sticky-session cookie) added to the client response if this upstream
 * answers it. It is appended to the upstream's own Set-Cookie headers, never replacing them.
 */
export interface PickedUpstream extends Upstream {
  setCookie?: string | undefined;
}

/** What admission control sees of a request, before any upstream is picked. */
export interface AdmitRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** The peer address normalised (IPv4-mapped IPv6 folded). */
  clientIp: string;
  /** The socket's peer address as node reports it. */
  remoteAddress: string | undefined;
}

export type AdmitResult = { ok: true } | { ok: false; status: 429; retryAfterS: number; message: string };

/** What the balancer sees of a request when it chooses an upstream. */
export interface PickRequest {
  method: string;
  headers: IncomingHttpHeaders;
  clientIp: string;
}

export type FailureKind = 'connect_failure' | 'reset' | 'timeout';

export type AttemptOutcome =
  | { kind: 'response'; status: number; durationMs: number }
  | { kind: FailureKind; durationMs: number };

export interface RetryContext {
  /** 1-based number of the attempt that just ended. */
  attempt: number;
  method: string;
  outcome: AttemptOutcome;
  status?: number;
}

export interface RetryDecision {
  retry: boolean;
  delayMs: number;
}

export type Release = () => void;
export type AcquireResult = Release | { overloaded: true; retryAfterS: number };

/** Balancing, outlier detection, retry policy and limits live behind these callbacks. */
export interface RoutingHooks {
  /** Choose an upstream for this attempt; `tried` holds ids already tried for this request. */
  pick(req: PickRequest, tried: ReadonlySet<string>): PickedUpstream | undefined;
  /** Called once per attempt with its outcome. */
  report(upstreamId: string, outcome: AttemptOutcome): void;
  /** Whether to try again after a failed attempt (retry policy and budget live here). */
  shouldRetry(ctx: RetryContext): RetryDecision;
  /**
   * Called when an attempt starts, before the request is sent (concurrency limits,
   * in-flight accounting); the returned release runs exactly once, when the attempt
   * ends: after the response body was relayed or discarded, or on failure. Optional.
   */
  acquire?(upstreamId: string, cancel: Cancellation): AcquireResult | Promise<AcquireResult>;
  /**
   * Admission control (rate limiting), called once per request (and per upgrade)
   * before any upstream is picked. A refusal is answered by the proxy itself. Optional.
   */
  admit?(req: AdmitRequest): AdmitResult;
}

export interface ProxyTimeouts {
  /** TCP (and TLS) connect to an upstream. */
  connectMs: number;
  /** One attempt, from dispatch until the upstream's response headers. */
  perTryMs: number;
  /** All attempts together, until response headers reach the client. */
  overallMs: number;
  /** A client must send its complete request head within this. */
  headerReadMs: number;
  /** Idle keep-alive connections (client and upstream) and a silent upstream body. */
  idleMs: number;
}

export interface ProxyLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  /** Request bodies up to this size are kept so an attempt can be replayed. Default 64 KiB. */
  retryBufferBytes?: number;
}

/** How the proxy verifies https:// upstreams (undici's connect options). */
export interface UpstreamTlsOptions {
  /** PEM CA bundle trusted instead of the system's roots. */
  ca?: Buffer | undefined;
  /** The name checked against upstream certificates and sent as SNI; default: the endpoint URL's host. */
  servername?: string | undefined;
  rejectUnauthorized: boolean;
}

export interface HttpProxyOptions {
  hooks: RoutingHooks;
  /** Terminate TLS: node:https options (certificates, SNICallback, minVersion). Plain HTTP when absent. */
  tls?: HttpsServerOptions | undefined;
  /** Added to every response the proxy sends (HSTS). */
  responseHeaders?: Record<string, string> | undefined;
  upstreamTls?: UpstreamTlsOptions | undefined;
  timeouts: ProxyTimeouts;
  limits: ProxyLimits;
  log: Logger;
  /** Retry-After sent with a 503 when no upstream is available. Default 1. */
  noUpstreamRetryAfterS?: number;
}
