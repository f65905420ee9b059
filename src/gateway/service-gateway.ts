import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Logger } from '../core/logger.js';
import type { ServiceConfig } from '../config/index.js';
import type { HealthStatus } from '../probes/index.js';
import { EndpointPool, poolEndpointsFromConfig, poolOptionsFromConfig, stickyCookieName, type TierChange } from './pool/index.js';
import {
  createHttpProxy, createTcpProxy, readCookie, sessionCookie,
  type AcquireResult, type AdmitRequest, type Cancellation, type AdmitResult, type AttemptOutcome, type PickedUpstream, type PickRequest, type Release, type RoutingHooks, type TcpProxy,
} from './proxy/index.js';
import { ConcurrencyLimiter, DEFAULT_RETRIES, OutlierDetector, RetryBudget, RetryPolicy, TokenBuckets, clientKey, type EndpointOutcome } from './resilience/index.js';
import type { GatewayMetrics } from './metrics.js';
import { CertificateStore } from './tls/certificate-store.js';
import { followCertificates, hstsHeader, tlsServerOptions } from './tls/server-options.js';
import { upstreamTlsOptions } from './tls/upstream.js';

/**
 * Passive ejection when a service sets no outlier_detection, as Linkerd's failure
 * accrual is on by default: only gateway errors (502/503/504, connect failures,
 * resets, timeouts) count, never an application's own 500s. Without it, an
 * endpoint that hangs behind passing health checks would cost every third
 * request a retry, more than the retry budget allows. `max_ejection_percent: 0%` turns it off.
 */
const DEFAULT_OUTLIER_DETECTION = {
  consecutive_errors: Number.POSITIVE_INFINITY,
  consecutive_gateway_errors: 5,
  base_ejection_time: 30_000,
  max_ejection_percent: 0.5,
};

const DEFAULTS = { connectMs: 2_000, timeoutMs: 30_000, headerReadMs: 10_000, idleMs: 60_000, maxHeaderBytes: 64 * 1024, maxBodyBytes: 10 * 1024 * 1024 };
/** Full rate-limit buckets are dropped at most this often (the table is also LRU-bounded). */
const PRUNE_EVERY_MS = 60_000;

/**
 * `waiting`: a service that starts down has had no health result yet (a
 * database's front door before its primary tracker's first decision);
 * `serving`: level changes are failovers and failbacks; `stopping`: the daemon
 * is shutting down.
 */
type Phase = 'waiting' | 'serving' | 'stopping';

/** How a service reacts to its endpoints' state, beyond what its ServiceConfig says; sent to gateway workers with the config. */
export interface ServiceBehaviour {
  /**
   * TCP: when an endpoint is marked down, its live sessions are closed (HAProxy's
   * `on-marked-down shutdown-sessions`). Default: what the service's
   * `on_marked_down` says, else off (sessions run on until either side ends them).
   */
  closeSessionsOnDown?: boolean;
  /** Every endpoint starts `down` instead of `unknown` (unknown counts as up): nothing is routed until told. */
  startDown?: boolean;
  /** TCP: how long a new connection that finds no eligible endpoint waits for one (bounded queue); default 0. */
  queueMs?: number;
}

export interface ServiceGatewayOptions extends ServiceBehaviour {
  /** Key of sticky cookie values. Gateways (or cluster workers) that share sessions must share it; random per process when absent. */
  stickySecret?: string | Uint8Array;
}

/** Connections held at once by the queue (`queueMs`); past it a connection that finds no endpoint is closed at once. */
const MAX_QUEUED = 1024;

/**
 * One service's data plane: the rate limit decides who gets in, the endpoint pool
 * decides where (balancing on in-flight counts, sticky cookies), outlier detection
 * and probe events decide who is eligible, the retry policy and its budget
 * decide whether to try again, and the proxy moves the bytes.
 */
export class ServiceGateway {
  readonly pool: EndpointPool;
  readonly server: Server | TcpProxy;
  /** The listener's certificates when the service terminates TLS (`tls`). */
  readonly certificates: CertificateStore | undefined;
  private readonly outliers: OutlierDetector | undefined;
  private readonly retry: RetryPolicy;
  private readonly budget: RetryBudget;
  private readonly limiters = new Map<string, ConcurrencyLimiter>();
  private readonly urls = new Map<string, URL>();
  private readonly stickyCookie: string | undefined;
  private readonly admit: ((req: AdmitRequest) => AdmitResult) | undefined;
  private readonly closeSessionsOnDown: boolean;
  /** Connections waiting in the TCP queue for an eligible endpoint. */
  private readonly waiters = new Set<() => void>();
  private phase: Phase;

  constructor(readonly name: string, private service: ServiceConfig, private readonly metrics: GatewayMetrics, private readonly log: Logger, private readonly opts: ServiceGatewayOptions = {}) {
    this.phase = opts.startDown ? 'waiting' : 'serving';
    const options = poolOptionsFromConfig(service);
    this.stickyCookie = service.protocol === 'tcp' ? undefined : stickyCookieName(service);
    this.admit = this.rateLimiter();
    this.pool = new EndpointPool(poolEndpointsFromConfig(service), {
      ...options,
      ...(opts.stickySecret === undefined ? {} : { stickySecret: opts.stickySecret }),
      onChange: (c) => this.tierChanged(c),
    });
    this.indexEndpoints();
    if (opts.startDown) {
      for (const id of this.urls.keys()) this.pool.setHealth(id, 'down');
      log.info('waiting for the first health results: nothing is routed until then');
    }
    this.closeSessionsOnDown = service.protocol === 'tcp' && (opts.closeSessionsOnDown ?? service.on_marked_down === 'shutdown-sessions');
    const od = service.outlier_detection ?? DEFAULT_OUTLIER_DETECTION;
    this.outliers = od.max_ejection_percent <= 0 ? undefined : new OutlierDetector({
      consecutiveErrors: od.consecutive_errors, consecutiveGatewayErrors: od.consecutive_gateway_errors,
      baseEjectionMs: od.base_ejection_time, maxEjectionFraction: od.max_ejection_percent,
      onEject: (e) => {
        this.pool.eject(e.id, e.untilMs);
        this.metrics.ejections.inc({ service: name, endpoint: e.id });
        log.warn({ service: name, endpoint: e.id, until: new Date(e.untilMs).toISOString(), times: e.times, reason: e.reason }, 'endpoint ejected');
      },
      onReturn: (e) => log.info({ service: name, endpoint: e.id }, 'endpoint back from ejection, on probation'),
    });
    this.outliers?.setPoolSize([...this.urls.keys()]);
    const retries = service.retries ?? DEFAULT_RETRIES;
    this.retry = RetryPolicy.fromConfig({ ...retries, retry_on: [...retries.retry_on] });
    this.budget = new RetryBudget({ ratio: retries.budget });
    this.certificates = service.tls ? new CertificateStore(name, service.tls, log) : undefined;
    this.server = service.protocol === 'tcp' ? this.tcpServer() : this.httpServer();
    if (this.certificates) followCertificates(this.server as unknown as HttpsServer, this.certificates);
  }

  /**
   * The daemon is shutting down: what its own stopping does to the endpoints
   * (a database primary it stops, probes that see it go) is deliberate, and is
   * not logged or counted as a failover. Routing goes on as before.
   */
  markStopping(): void {
    this.phase = 'stopping';
  }

  /**
   * A change of the tier set taking traffic. Only a change after the first
   * health results and before shutdown is a failover or a failback: at start a
   * service that starts down (a database's front door) goes from "nothing
   * routed" to its first level, and that is no failback either.
   */
  private tierChanged(c: TierChange): void {
    if (this.phase === 'stopping') {
      this.log.debug({ from: c.from, to: c.to, reason: c.reason }, 'traffic level changed while stopping');
      return;
    }
    if (this.phase === 'waiting') {
      if (c.to === 'none') return;
      this.phase = 'serving';
      this.log.info({ to: c.to, reason: c.reason }, 'first health results: traffic is routed');
      return;
    }
    this.metrics.failovers.inc({ service: this.name, direction: c.direction });
    this.log.warn({ from: c.from, to: c.to, reason: c.reason }, c.direction === 'failover' ? 'traffic failed over' : 'traffic failed back');
  }

  /**
   * The probes' (or, for a database, the primary tracker's) view of an endpoint.
   * With `closeSessionsOnDown`, marking an endpoint down also closes its live
   * TCP sessions; an endpoint becoming eligible wakes the connections queued for one.
   */
  setHealth(endpoint: string, status: HealthStatus): void {
    const current = this.pool.get(endpoint);
    if (!current || !this.urls.has(endpoint)) return;
    const was = current.health;
    this.pool.setHealth(endpoint, status);
    if (status === 'down' && was !== 'down' && this.closeSessionsOnDown) {
      const closed = (this.server as TcpProxy).closeSessionsTo(endpoint);
      if (closed > 0) this.log.warn({ service: this.name, endpoint, sessions: closed }, 'endpoint marked down: its sessions were closed');
    }
    if (this.waiters.size > 0 && this.pool.level !== 'none') for (const wake of [...this.waiters]) wake();
  }

  /** Resolves when an endpoint may have become eligible, or after `timeoutMs`; at once when the queue is full. */
  private waitForEndpoint(timeoutMs: number): Promise<void> {
    if (this.waiters.size >= MAX_QUEUED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.waiters.add(wake);
    });
  }

  private indexEndpoints(): void {
    this.urls.clear();
    for (const e of poolEndpointsFromConfig(this.service)) this.urls.set(e.id, new URL(e.url.includes('://') ? e.url : `tcp://${e.url}`));
    const max = this.service.limits?.max_connections;
    this.limiters.clear();
    if (max) for (const id of this.urls.keys()) this.limiters.set(id, new ConcurrencyLimiter({ maxConnections: max, maxPending: this.service.limits?.max_pending_requests ?? 0 }));
  }

  /** Token buckets per client key from `rate_limit`; undefined when the service has none. */
  private rateLimiter(): ((req: AdmitRequest) => AdmitResult) | undefined {
    const rl = this.service.rate_limit;
    if (!rl) return undefined;
    const buckets = new TokenBuckets({ ratePerSecond: rl.requests_per_second, burst: rl.burst });
    let prunedAt = Date.now();
    return (req) => {
      const now = Date.now();
      if (now - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = now;
        buckets.prune();
      }
      const taken = buckets.take(clientKey(req, rl.key));
      if (taken.allowed) return { ok: true };
      this.metrics.rateLimited.inc({ service: this.name });
      const retryAfterS = taken.retryAfterMs / 1000;
      const message = `rate limit of ${rl.requests_per_second} requests per second (burst ${rl.burst ?? Math.max(1, Math.ceil(rl.requests_per_second))}) exceeded; retry after ${Math.max(1, Math.ceil(retryAfterS))} s`;
      return { ok: false, status: 429, retryAfterS, message };
    };
  }

  /**
   * Balancing with sticky sessions: a valid cookie keeps the client on its endpoint;
   * a missing one, or one whose endpoint can no longer serve (down, drained, ejected,
   * removed), gets a fresh cookie for the endpoint picked now.
   */
  private pick(req: PickRequest, tried: ReadonlySet<string>): PickedUpstream | undefined {
    const cookie = this.stickyCookie;
    const stickyKey = cookie === undefined ? undefined : readCookie(req.headers.cookie, cookie);
    const picked = this.pool.pick({ exclude: tried, stickyKey });
    if (!picked) return undefined;
    const id = picked.endpoint.id;
    const url = this.urls.get(id);
    if (!url) return undefined;
    const renew = cookie !== undefined && (stickyKey === undefined || picked.stickyBroken);
    return { id, url, setCookie: renew ? sessionCookie(cookie, this.pool.stickyCookieValue(id)) : undefined };
  }

  /**
   * Every attempt counts as in flight on its endpoint (least_connections and
   * power_of_two_choices balance on it) from start until its response body is
   * relayed or it failed; behind the concurrency limiter when `limits` set one.
   */
  private acquire(id: string, cancel: Cancellation): AcquireResult | Promise<AcquireResult> {
    const limiter = this.limiters.get(id);
    if (!limiter) return this.countInFlight(id, () => undefined);
    return limiter.acquire(cancel.signal).then((result) => (result.ok ? this.countInFlight(id, result.release) : { overloaded: true as const, retryAfterS: result.retryAfterSeconds }));
  }

  private countInFlight(id: string, releaseSlot: Release): Release {
    const counted = this.pool.acquire(id);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (counted) this.pool.release(id);
      releaseSlot();
    };
  }

  private hooks(): RoutingHooks {
    return {
      pick: (req, tried) => this.pick(req, tried),
      report: (id, outcome) => this.report(id, outcome),
      shouldRetry: (ctx) => {
        const outcome = ctx.outcome.kind === 'timeout' ? 'per_try_timeout' : ctx.outcome.kind;
        const allowed = this.retry.shouldRetry({ attempt: ctx.attempt, method: ctx.method, outcome, status: ctx.status });
        // The budget guards against retry storms on servers that did work. A connect
        // failure reached no application: retrying it elsewhere is the request's first
        // real attempt and adds no load, so it is not charged.
        const retry = allowed && (outcome === 'connect_failure' || this.budget.tryAcquire());
        if (retry) this.metrics.retries.inc({ service: this.name });
        return { retry, delayMs: retry ? this.retry.backoffMs(ctx.attempt) : 0 };
      },
      acquire: (id, cancel) => this.acquire(id, cancel),
      ...(this.admit ? { admit: this.admit } : {}),
    };
  }

  private report(id: string, outcome: AttemptOutcome): void {
    const result = outcome.kind === 'response' ? `${Math.floor(outcome.status / 100)}xx` : outcome.kind;
    this.metrics.attempts.inc({ service: this.name, endpoint: id, result });
    this.metrics.duration.observe({ service: this.name, endpoint: id }, outcome.durationMs / 1000);
    this.outliers?.record(id, outlierOutcome(outcome));
  }

  private httpServer(): Server {
    const s = this.service;
    const hooks = this.hooks();
    const countRequests: RoutingHooks = { ...hooks, pick: (req, tried) => {
      if (tried.size === 0) this.budget.recordRequest();
      return hooks.pick(req, tried);
    } };
    const headerReadMs = s.limits?.header_read_timeout ?? DEFAULTS.headerReadMs;
    const hsts = s.tls ? hstsHeader(s.tls.hsts) : undefined;
    return createHttpProxy({
      hooks: countRequests,
      tls: this.certificates ? tlsServerOptions(this.certificates, headerReadMs) : undefined,
      responseHeaders: hsts === undefined ? undefined : { 'strict-transport-security': hsts },
      upstreamTls: upstreamTlsOptions(this.name, s.upstream_tls),
      timeouts: {
        connectMs: s.connect_timeout ?? DEFAULTS.connectMs,
        perTryMs: s.retries?.per_try_timeout ?? s.timeout ?? DEFAULTS.timeoutMs,
        overallMs: s.timeout ?? DEFAULTS.timeoutMs,
        headerReadMs,
        idleMs: DEFAULTS.idleMs,
      },
      limits: { maxHeaderBytes: s.limits?.max_request_header_size ?? DEFAULTS.maxHeaderBytes, maxBodyBytes: s.limits?.max_request_body_size ?? DEFAULTS.maxBodyBytes },
      log: this.log,
    });
  }

  private tcpServer(): TcpProxy {
    const hooks = this.hooks();
    const admit = this.admit;
    return createTcpProxy({
      hooks: {
        // The rate limit counts new connections per client; a refused one is closed.
        ...(admit ? { admit: (req: PickRequest) => admit({ ...req, remoteAddress: req.clientIp }).ok } : {}),
        pick: (req, tried) => hooks.pick(req, tried),
        waitForUpstream: (timeoutMs) => this.waitForEndpoint(timeoutMs),
        report: (id, outcome) => {
          if (outcome.kind === 'connect_failure' || outcome.kind === 'timeout') this.report(id, { kind: outcome.kind, durationMs: 0 });
          else if (outcome.kind === 'connected') {
            this.outliers?.record(id, 'success');
            this.pool.acquire(id);
          } else if (outcome.kind === 'closed') this.pool.release(id);
        },
      },
      connectTimeoutMs: this.service.connect_timeout ?? DEFAULTS.connectMs,
      queueMs: this.opts.queueMs ?? 0,
      idleMs: 0,
      log: this.log,
    });
  }
}


function outlierOutcome(outcome: AttemptOutcome): EndpointOutcome {
  if (outcome.kind !== 'response') return outcome.kind;
  if (outcome.status === 502 || outcome.status === 503 || outcome.status === 504) return 'gateway_error';
  return outcome.status >= 500 ? '5xx' : 'success';
}
