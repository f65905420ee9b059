import type { Finding, KeyPath } from '../diagnostics.js';
import { serviceEngine } from '../schema-engine.js';
import type { BulwarkConfig, ServiceConfig } from '../schema.js';

interface Gap {
  path: KeyPath;
  /** What HAProxy does instead, or why it cannot. */
  why: string;
}

/** Settings the HAProxy engine cannot honour: `check` rejects them, since the service would behave otherwise than written. */
function unsupported(service: ServiceConfig): Gap[] {
  const gaps: Gap[] = [];
  if (service.failover?.min_healthy_share !== undefined) {
    gaps.push({ path: ['failover', 'min_healthy_share'], why: 'HAProxy sends traffic to backup servers only once every normal server is down; it has no share threshold' });
  }
  if (service.failover?.failback === false) {
    gaps.push({ path: ['failover', 'failback'], why: 'HAProxy always returns traffic to normal servers once one is up again; it cannot hold a failover' });
  }
  if (service.retries?.backoff !== undefined) {
    gaps.push({ path: ['retries', 'backoff'], why: 'HAProxy retries at once (on another server with redispatch); it has no backoff between retries' });
  }
  if (service.limits?.max_request_header_size !== undefined) {
    gaps.push({ path: ['limits', 'max_request_header_size'], why: 'HAProxy\'s header limit is its global tune.bufsize, not a setting per service' });
  }
  if (service.limits?.header_read_timeout !== undefined && service.protocol === 'tcp') {
    gaps.push({ path: ['limits', 'header_read_timeout'], why: 'a tcp service reads no headers' });
  }
  return gaps;
}

/** Settings the HAProxy engine maps to its nearest behaviour: `check` warns and names the difference. */
function mapped(service: ServiceConfig): Gap[] {
  const gaps: Gap[] = [];
  if (service.outlier_detection !== undefined) {
    gaps.push({
      path: ['outlier_detection'],
      why: 'HAProxy has no timed ejection: it is mapped to observe layer7 + error-limit consecutive_errors + on-error mark-down, so a failing server is marked down until its health checks pass again (base_ejection_time and max_ejection_percent do not apply)',
    });
  }
  if (service.rate_limit?.burst !== undefined) {
    gaps.push({ path: ['rate_limit', 'burst'], why: 'HAProxy counts requests per client over a 1 s stick-table window (http_req_rate(1s)); there is no separate burst' });
  }
  const zones = service.failover?.primary_zones;
  if (zones && service.endpoints.some((e) => !e.backup && !zones.includes(e.zone ?? '')) && service.endpoints.some((e) => e.backup)) {
    gaps.push({ path: ['failover', 'primary_zones'], why: 'HAProxy has two levels, normal and backup servers: endpoints outside primary_zones and backup: true endpoints are all rendered as backup servers and share traffic when the primary zones are down' });
  }
  return gaps;
}

/**
 * What the chosen engine of each service can honour. The HAProxy engine rejects
 * the built-in features it has no equivalent for (error: the builtin engine
 * can) and warns where it maps a feature to its nearest behaviour.
 */
export function lintEngine(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    if (serviceEngine(service, config.gateway) !== 'haproxy') continue;
    const where: KeyPath = ['services', name];
    for (const gap of unsupported(service)) {
      out.push({
        severity: 'error', rule: 'lint.engine_unsupported', path: [...where, ...gap.path], found: 'engine: haproxy',
        message: `the haproxy engine cannot honour ${gap.path.join('.')} on service ${name}: ${gap.why}`,
        hint: `remove ${gap.path.join('.')}, or set engine: builtin on this service (the builtin engine honours it)`,
      });
    }
    for (const gap of mapped(service)) {
      out.push({
        severity: 'warning', rule: 'lint.engine_mapped', path: [...where, ...gap.path], found: 'engine: haproxy',
        message: `the haproxy engine maps ${gap.path.join('.')} on service ${name} to its nearest behaviour: ${gap.why}`,
        hint: 'accept the difference, or set engine: builtin on this service for the exact behaviour',
      });
    }
    if (service.listen === undefined) {
      out.push({
        severity: 'warning', rule: 'lint.engine_unused', path: [...where, 'engine'], found: 'engine: haproxy',
        message: `service ${name} has no listen address, so no engine serves it`,
        hint: 'add listen to route traffic to it, or remove engine',
      });
    }
  }
  return out;
}
