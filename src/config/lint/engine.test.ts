import { describe, expect, it } from 'vitest';
import { configSchema } from '../schema.js';
import { BASE, byRule, lintYaml } from './testing.js';

const service = (extra: string, engine = 'haproxy') => `${BASE}
services:
  web:
    listen: 127.0.0.1:8080
    engine: ${engine}
    endpoints:
      - { url: "http://10.0.0.1:80", zone: z1 }
      - { url: "http://10.0.0.2:80", zone: z2 }
${extra}`;

describe('lint: the engine of each service', () => {
  it('defaults to the builtin engine globally and leaves a service unset', () => {
    const config = configSchema.parse({});
    expect(config.gateway.engine).toBe('builtin');
    expect(config.gateway.haproxy).toEqual({});
  });

  it('says nothing about a haproxy service it can honour', () => {
    const findings = lintYaml(service('    load_balancing: { algorithm: least_connections, sticky_sessions: true }\n    retries: { attempts: 3, retry_on: [5xx, reset, connect-failure] }'));
    expect(findings.filter((f) => f.rule.startsWith('lint.engine'))).toEqual([]);
  });

  it('rejects what haproxy cannot honour, naming the feature and the builtin engine', () => {
    const findings = byRule(lintYaml(service('    failover: { min_healthy_share: 50%, failback: false }\n    retries: { backoff: { base: 10ms } }')), 'lint.engine_unsupported');
    expect(findings.map((f) => f.path.join('.'))).toEqual(['services.web.failover.min_healthy_share', 'services.web.failover.failback', 'services.web.retries.backoff']);
    expect(findings.every((f) => f.severity === 'error')).toBe(true);
    expect(findings[0]?.message).toMatch(/haproxy engine cannot honour failover\.min_healthy_share/);
    expect(findings[0]?.hint).toMatch(/engine: builtin .*honours it/);
  });

  it('warns where it maps outlier detection to observe layer7 and on-error mark-down', () => {
    const [finding] = byRule(lintYaml(service('    outlier_detection: { consecutive_errors: 3 }')), 'lint.engine_mapped');
    expect(finding?.severity).toBe('warning');
    expect(finding?.message).toMatch(/observe layer7 \+ error-limit consecutive_errors \+ on-error mark-down/);
  });

  it('follows gateway.engine for services that name none, and a service can opt back into builtin', () => {
    const text = service('    failover: { failback: false }', 'builtin').replace('services:', 'gateway: { engine: haproxy }\nservices:');
    expect(byRule(lintYaml(text), 'lint.engine_unsupported')).toEqual([]);
    expect(byRule(lintYaml(text.replace('    engine: builtin\n', '')), 'lint.engine_unsupported')).toHaveLength(1);
  });
});
