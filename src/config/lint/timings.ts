import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig, ServiceConfig } from '../schema.js';
import { formatDurationShort as short } from '../../core/units.js';

/** Timers that contradict each other: each one makes a promise the others break. */
export function lintTimings(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  for (const [name, service] of Object.entries(config.services)) {
    out.push(...healthCheck(name, service), ...retries(name, service), ...outliers(name, service));
  }
  for (const [name, db] of Object.entries(config.databases)) if (db.postgres) out.push(...leaderLease(name, db.postgres));
  return out;
}

function healthCheck(name: string, service: ServiceConfig): Finding[] {
  const check = service.health_check;
  if (!check) return [];
  const path = ['services', name, 'health_check'];
  const out: Finding[] = [];
  if (check.timeout >= check.interval) {
    out.push({
      severity: 'error', rule: 'lint.health_check_timeout', path: [...path, 'timeout'],
      message: `health check timeout ${short(check.timeout)} is not shorter than its interval ${short(check.interval)}: ` +
        'a slow check is still running when the next one starts, so checks pile up on a struggling endpoint',
      found: `timeout ${short(check.timeout)}, interval ${short(check.interval)}`, expected: `timeout below ${short(check.interval)}`,
      hint: 'lower timeout (half the interval or less is usual) or raise interval',
    });
  }
  if (check.fall === 1 || check.rise === 1) {
    const key = check.fall === 1 ? 'fall' : 'rise';
    out.push({
      severity: 'warning', rule: 'lint.health_check_flapping', path: [...path, key],
      message: key === 'fall'
        ? 'fall: 1 takes an endpoint out of service after one failed check: a single dropped packet or pause causes a failover'
        : 'rise: 1 puts an endpoint back after one passing check: a flapping endpoint keeps re-entering the pool',
      found: `${key}: 1`, expected: `${key}: 2 or more`,
      hint: 'use fall: 3 and rise: 2 (HAProxy\'s defaults) unless you have measured otherwise',
    });
  }
  return out;
}

function retries(name: string, service: ServiceConfig): Finding[] {
  const perTry = service.retries?.per_try_timeout;
  if (perTry === undefined || service.timeout === undefined || perTry <= service.timeout) return [];
  return [{
    severity: 'error', rule: 'lint.per_try_timeout_exceeds_timeout', path: ['services', name, 'retries', 'per_try_timeout'],
    message: `retries.per_try_timeout ${short(perTry)} is longer than the request timeout ${short(service.timeout)}: ` +
      'the request times out before its first try does, so no retry ever happens',
    found: short(perTry), expected: `at most ${short(service.timeout)} (the service timeout)`,
    hint: `lower per_try_timeout below ${short(service.timeout)} (timeout ÷ (attempts + 1) leaves room for the first try and every retry) or raise timeout`,
  }];
}

function outliers(name: string, service: ServiceConfig): Finding[] {
  const od = service.outlier_detection;
  if (!od || od.max_ejection_percent < 1) return [];
  return [{
    severity: 'warning', rule: 'lint.outlier_ejects_all', path: ['services', name, 'outlier_detection', 'max_ejection_percent'],
    message: 'max_ejection_percent 100% lets outlier detection eject every endpoint: one bad deploy or a shared dependency ' +
      `failing makes ${name} refuse all traffic though endpoints could still serve some`,
    found: '100%', expected: 'below 100% (50% is usual)',
    hint: 'set max_ejection_percent to 50% so some endpoints always stay in the pool',
  }];
}

type Postgres = NonNullable<BulwarkConfig['databases'][string]['postgres']>;

/**
 * The leader lease's safety margin for a TTL: mirrors LeaderLease's default
 * (src/coordination/leader-lease.ts: 10% of the TTL, at least 500 ms), the
 * time a leader has to fence itself before etcd could let the lease go.
 */
export function leaseSafetyMarginMs(ttlMs: number): number {
  return Math.max(500, ttlMs / 10);
}

/** The shortest TTL (whole seconds, as etcd counts leases) that fits loop_wait + 2 × retry_timeout plus the margin. */
export function minimumTtlMs(loopWaitMs: number, retryTimeoutMs: number): number {
  const needed = loopWaitMs + 2 * retryTimeoutMs;
  const exact = needed + 500 <= 5_000 ? needed + 500 : needed / 0.9;
  return Math.ceil(exact / 1000) * 1000;
}

/**
 * Patroni's rule loop_wait + 2 × retry_timeout ≤ ttl, plus the lease's safety
 * margin, exactly as LeaderLease refuses it: one hung etcd member (one request
 * timeout) must not by itself let the lease run out.
 */
function leaderLease(name: string, pg: Postgres): Finding[] {
  const needed = pg.loop_wait + 2 * pg.retry_timeout;
  const margin = leaseSafetyMarginMs(pg.ttl);
  if (needed <= pg.ttl - margin) return [];
  const minimum = minimumTtlMs(pg.loop_wait, pg.retry_timeout);
  return [{
    severity: 'error', rule: 'lint.leader_lease_unsafe', path: ['databases', name, 'postgres', 'ttl'],
    message: `ttl ${short(pg.ttl)} is too short for loop_wait + 2 × retry_timeout (${short(pg.loop_wait)} + 2 × ${short(pg.retry_timeout)} = ` +
      `${short(needed)}) plus the lease's safety margin (${short(Math.round(margin))}: 10% of ttl, at least 500ms): ` +
      'this cannot be safe: a leader could lose its lease before it notices, and two primaries could accept writes',
    found: `ttl ${short(pg.ttl)}, loop_wait ${short(pg.loop_wait)}, retry_timeout ${short(pg.retry_timeout)}`,
    expected: `ttl at least ${short(minimum)}`,
    hint: `raise ttl to ${short(minimum)} or more, or lower loop_wait or retry_timeout (bulwark's defaults: ttl 10s, loop_wait 2s, retry_timeout 3s)`,
  }];
}
