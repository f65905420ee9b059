import { Counter, Histogram, type Registry } from 'prom-client';

export interface GatewayMetrics {
  attempts: Counter<'service' | 'endpoint' | 'result'>;
  duration: Histogram<'service' | 'endpoint'>;
  retries: Counter<'service'>;
  ejections: Counter<'service' | 'endpoint'>;
  failovers: Counter<'service' | 'direction'>;
  rateLimited: Counter<'service'>;
}

/**
 * Traffic metrics go to `registry`; tier changes to `tierRegistry` (default the
 * same). With worker processes, workers export traffic and the primary, whose
 * pools decide tiers, exports tier changes: each family appears once.
 */
export function registerGatewayMetrics(registry: Registry, tierRegistry: Registry = registry): GatewayMetrics {
  const registers = [registry];
  return {
    attempts: new Counter({ name: 'bulwark_gateway_upstream_attempts_total', help: 'Attempts to upstream endpoints by result (2xx..5xx, connect_failure, reset, timeout)', labelNames: ['service', 'endpoint', 'result'], registers }),
    duration: new Histogram({ name: 'bulwark_gateway_upstream_duration_seconds', help: 'Upstream attempt duration until response headers', labelNames: ['service', 'endpoint'], registers, buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] }),
    retries: new Counter({ name: 'bulwark_gateway_retries_total', help: 'Attempts retried on another endpoint', labelNames: ['service'], registers }),
    ejections: new Counter({ name: 'bulwark_gateway_ejections_total', help: 'Endpoints ejected by passive outlier detection', labelNames: ['service', 'endpoint'], registers }),
    failovers: new Counter({ name: 'bulwark_gateway_tier_changes_total', help: 'Traffic moving between zone tiers (failover to secondary zones or backups, failback)', labelNames: ['service', 'direction'], registers: [tierRegistry] }),
    rateLimited: new Counter({ name: 'bulwark_gateway_rate_limited_total', help: 'Requests (TCP: connections) refused by the per-client rate limit', labelNames: ['service'], registers }),
  };
}
