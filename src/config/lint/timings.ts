import type { Finding } from '../diagnostics.js';
import type { BulwarkConfig, ServiceConfig } from '../schema.js';
import { formatDurationShort as short } from '../units.js';

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

/** Patroni's rule: loop_wait + 2 × retry_timeout ≤ ttl. */
function leaderLease(name: string, pg: Postgres): Finding[] {
  const needed = pg.loop_wait + 2 * pg.retry_timeout;
  if (needed <= pg.ttl) return [];
  return [{
    severity: 'error', rule: 'lint.leader_lease_unsafe', path: ['databases', name, 'postgres', 'ttl'],
    message: `ttl ${short(pg.ttl)} is shorter than loop_wait + 2 × retry_timeout (${short(pg.loop_wait)} + 2 × ${short(pg.retry_timeout)} = ` +
      `${short(needed)}): this cannot be safe: a leader could lose its lease before it notices, and two primaries could accept writes`,
    found: `ttl ${short(pg.ttl)}, loop_wait ${short(pg.loop_wait)}, retry_timeout ${short(pg.retry_timeout)}`,
    expected: `ttl at least ${short(needed)}`,
    hint: `raise ttl to ${short(needed)} or more, or lower loop_wait or retry_timeout (Patroni's defaults: ttl 30s, loop_wait 10s, retry_timeout 10s)`,
  }];
}
