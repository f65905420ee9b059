import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per daemon (not the global one), so tests can run
 * several daemons in one process. Subsystems register their own metrics on it.
 */
export function createMetricsRegistry(version: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'bulwark_process_' });
  new Gauge({ name: 'bulwark_build_info', help: 'Bulwark build information (always 1)', labelNames: ['version'], registers: [registry] })
    .set({ version }, 1);
  return registry;
}

export interface CoreMetrics {
  configReloads: Counter<'result'>;
  configLoadedTimestamp: Gauge;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method'>;
}

export function registerCoreMetrics(registry: Registry): CoreMetrics {
  const registers = [registry];
  return {
    configReloads: new Counter({
      name: 'bulwark_config_reloads_total', help: 'Configuration reloads by result (applied, rejected, unchanged)', labelNames: ['result'], registers,
    }),
    configLoadedTimestamp: new Gauge({
      name: 'bulwark_config_last_applied_timestamp_seconds', help: 'When the running configuration was applied', registers,
    }),
    httpRequests: new Counter({
      name: 'bulwark_api_requests_total', help: 'Admin API requests', labelNames: ['route', 'method', 'status'], registers,
    }),
    httpDuration: new Histogram({
      name: 'bulwark_api_request_duration_seconds', help: 'Admin API request duration', labelNames: ['route', 'method'], registers,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    }),
  };
}
