import type { Server } from 'node:http';
import type { Logger } from '../core/logger.js';
import type { ServiceConfig } from '../config/index.js';
import type { HealthStatus } from '../probes/index.js';
import { EndpointPool, poolEndpointsFromConfig, poolOptionsFromConfig } from './pool/index.js';
import { createHttpProxy, createTcpProxy, type AttemptOutcome, type RoutingHooks, type TcpProxy } from './proxy/index.js';
import { ConcurrencyLimiter, OutlierDetector, RetryBudget, RetryPolicy, type EndpointOutcome } from './resilience/index.js';
import type { GatewayMetrics } from './metrics.js';

const DEFAULTS = { connectMs: 2_000, timeoutMs: 30_000, headerReadMs: 10_000, idleMs: 60_000, maxHeaderBytes: 64 * 1024, maxBodyBytes: 10 * 1024 * 1024 };

/**
 * One service's data plane: the endpoint pool decides where, outlier detection
 * and probe events decide who is eligible, the retry policy and its budget
 * decide whether to try again, and the proxy moves the bytes.
 */
export class ServiceGateway {
  readonly pool: EndpointPool;
  readonly server: Server | TcpProxy;
  private readonly outliers: OutlierDetector | undefined;
  private readonly retry: RetryPolicy;
  private readonly budget: RetryBudget;
  private readonly limiters = new Map<string, ConcurrencyLimiter>();
  private readonly urls = new Map<string, URL>();

  constructor(readonly name: string, private service: ServiceConfig, private readonly metrics: GatewayMetrics, private readonly log: Logger) {
    const options = poolOptionsFromConfig(service);
    this.pool = new EndpointPool(poolEndpointsFromConfig(service), {
      ...options,
      onChange: (c) => {
        this.metrics.failovers.inc({ service: name, direction: c.direction });
        log.warn({ service: name, from: c.from, to: c.to, reason: c.reason }, c.direction === 'failover' ? 'traffic failed over' : 'traffic failed back');
      },
    });
    this.indexEndpoints();
    const od = service.outlier_detection;
    this.outliers = od && new OutlierDetector({
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
    const retries = service.retries ?? { attempts: 2, retry_on: ['connect-failure', 'reset'] as const, non_idempotent: false, budget: 0.2 };
    this.retry = RetryPolicy.fromConfig({ ...retries, retry_on: [...retries.retry_on] });
    this.budget = new RetryBudget({ ratio: retries.budget });
    this.server = service.protocol === 'tcp' ? this.tcpServer() : this.httpServer();
  }

  setHealth(endpoint: string, status: HealthStatus): void {
    if (this.urls.has(endpoint)) this.pool.setHealth(endpoint, status);
  }

  private indexEndpoints(): void {
    this.urls.clear();
    for (const e of poolEndpointsFromConfig(this.service)) this.urls.set(e.id, new URL(e.url.includes('://') ? e.url : `tcp://${e.url}`));
    const max = this.service.limits?.max_connections;
    this.limiters.clear();
    if (max) for (const id of this.urls.keys()) this.limiters.set(id, new ConcurrencyLimiter({ maxConnections: max, maxPending: this.service.limits?.max_pending_requests ?? 0 }));
  }

  private hooks(): RoutingHooks {
    return {
      pick: (_req, tried) => {
        const picked = this.pool.pick({ exclude: tried as Set<string> });
        if (!picked) return undefined;
        const url = this.urls.get(picked.endpoint.id);
        return url && { id: picked.endpoint.id, url };
      },
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
      acquire: this.limiters.size === 0 ? undefined : async (id, signal) => {
        const limiter = this.limiters.get(id);
        if (!limiter) return () => undefined;
        const result = await limiter.acquire(signal);
        return result.ok ? result.release : { overloaded: true, retryAfterS: result.retryAfterSeconds };
      },
    };
  }

  private report(id: string, outcome: AttemptOutcome): void {
    const result = outcome.kind === 'response' ? `${Math.floor(outcome.status / 100)}xx` : outcome.kind;
    this.metrics.attempts.inc({ service: this.name, endpoint: id, result });
    this.metrics.duration.observe({ service: this.name }, outcome.durationMs / 1000);
    this.outliers?.record(id, outlierOutcome(outcome));
  }

  private httpServer(): Server {
    const s = this.service;
    const hooks = this.hooks();
    const countRequests: RoutingHooks = { ...hooks, pick: (req, tried) => {
      if (tried.size === 0) this.budget.recordRequest();
      return hooks.pick(req, tried);
    } };
    return createHttpProxy({
      hooks: countRequests,
      timeouts: {
        connectMs: s.connect_timeout ?? DEFAULTS.connectMs,
        perTryMs: s.retries?.per_try_timeout ?? s.timeout ?? DEFAULTS.timeoutMs,
        overallMs: s.timeout ?? DEFAULTS.timeoutMs,
        headerReadMs: s.limits?.header_read_timeout ?? DEFAULTS.headerReadMs,
        idleMs: DEFAULTS.idleMs,
      },
      limits: { maxHeaderBytes: s.limits?.max_request_header_size ?? DEFAULTS.maxHeaderBytes, maxBodyBytes: s.limits?.max_request_body_size ?? DEFAULTS.maxBodyBytes },
      log: this.log,
    });
  }

  private tcpServer(): TcpProxy {
    const hooks = this.hooks();
    return createTcpProxy({
      hooks: {
        pick: hooks.pick,
        report: (id, outcome) => {
          if (outcome.kind === 'connect_failure' || outcome.kind === 'timeout') this.report(id, { kind: outcome.kind, durationMs: 0 });
          else if (outcome.kind === 'connected') this.outliers?.record(id, 'success');
        },
      },
      connectTimeoutMs: this.service.connect_timeout ?? DEFAULTS.connectMs,
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
