import { describe, expect, it } from 'vitest';
import { byRule, lintYaml } from './testing.js';

const service = (body: string): string => `
services:
  api:
    endpoints: [{ url: http://a:1 }, { url: http://b:1 }]
${body}`;

describe('timings', () => {
  it('refuses a health check timeout not shorter than its interval', () => {
    const [f] = byRule(lintYaml(service('    health_check: { interval: 5s, timeout: 5s }\n')), 'lint.health_check_timeout');
    expect(f).toMatchObject({ severity: 'error', path: ['services', 'api', 'health_check', 'timeout'] });
    expect(f?.location).toMatchObject({ line: 5, column: 44 });
  });

  it('warns when a single check flips an endpoint', () => {
    const [f] = byRule(lintYaml(service('    health_check: { fall: 1, rise: 2 }\n')), 'lint.health_check_flapping');
    expect(f).toMatchObject({ severity: 'warning', path: ['services', 'api', 'health_check', 'fall'] });
    expect(byRule(lintYaml(service('    health_check: { fall: 3, rise: 2 }\n')), 'lint.health_check_flapping')).toEqual([]);
  });

  it('refuses a per-try timeout longer than the request timeout', () => {
    const yaml = service('    timeout: 5s\n    retries: { attempts: 2, per_try_timeout: 10s }\n');
    const [f] = byRule(lintYaml(yaml), 'lint.per_try_timeout_exceeds_timeout');
    expect(f).toMatchObject({ severity: 'error', path: ['services', 'api', 'retries', 'per_try_timeout'] });
    expect(byRule(lintYaml(service('    timeout: 30s\n    retries: { per_try_timeout: 10s }\n')), 'lint.per_try_timeout_exceeds_timeout')).toEqual([]);
  });

  it('warns when outlier detection may eject the whole pool', () => {
    const [f] = byRule(lintYaml(service('    outlier_detection: { max_ejection_percent: 100% }\n')), 'lint.outlier_ejects_all');
    expect(f).toMatchObject({ severity: 'warning', path: ['services', 'api', 'outlier_detection', 'max_ejection_percent'] });
  });

  it("applies Patroni's rule loop_wait + 2 × retry_timeout ≤ ttl, less the lease's safety margin", () => {
    const db = (timers: string): string => `
databases:
  db:
    postgres:
      members: [{ name: a, port: 5432 }, { name: b, port: 5433 }]
      ${timers}
`;
    const [f] = byRule(lintYaml(db('ttl: 10s\n      loop_wait: 5s\n      retry_timeout: 3s')), 'lint.leader_lease_unsafe');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'postgres', 'ttl'], expected: 'ttl at least 13s' });
    expect(f?.message).toContain('5s + 2 × 3s = 11s');
    expect(f?.message).toContain("plus the lease's safety margin (1s: 10% of ttl, at least 500ms)");
    expect(f?.message).toContain('a leader could lose its lease before it notices');
    expect(byRule(lintYaml(db('ttl: 30s')), 'lint.leader_lease_unsafe')).toEqual([]);
    // Defaults (loop_wait 2s, retry_timeout 3s): 8s of work; 9s leaves a 900ms margin, 8s leaves none.
    expect(byRule(lintYaml(db('ttl: 9s')), 'lint.leader_lease_unsafe')).toEqual([]);
    const [tight] = byRule(lintYaml(db('ttl: 8s')), 'lint.leader_lease_unsafe');
    expect(tight?.message).toBe("ttl 8s is too short for loop_wait + 2 × retry_timeout (2s + 2 × 3s = 8s) plus the lease's safety margin " +
      '(800ms: 10% of ttl, at least 500ms): this cannot be safe: a leader could lose its lease before it notices, and two primaries could accept writes');
    expect(tight?.hint).toContain('raise ttl to 9s or more');
    // Below 5s the margin is its 500ms floor.
    expect(byRule(lintYaml(db('ttl: 3s\n      loop_wait: 500ms\n      retry_timeout: 1s')), 'lint.leader_lease_unsafe')).toEqual([]);
    expect(byRule(lintYaml(db('ttl: 3s\n      loop_wait: 600ms\n      retry_timeout: 1s')), 'lint.leader_lease_unsafe')).toHaveLength(1);
  });
});
