import { describe, expect, it } from 'vitest';
import { parseConfigText } from './load.js';
import type { BulwarkConfig } from './schema.js';
import { SENTINEL_ELECTION_AND_PROMOTION_MS } from './schema-redis.js';
import { PROMOTION_ESTIMATE_MS, serviceDetectionMs, toTopology } from './topology.js';

function parsed(text: string): BulwarkConfig {
  const loaded = parseConfigText(text, 'test.yaml', { env: {}, lint: false });
  if (!loaded.config) throw new Error(`fixture does not pass the schema: ${JSON.stringify(loaded.findings, null, 2)}`);
  return loaded.config;
}

/** Percentages parse to fractions with float noise (99.9 / 100). */
const about = (n: number): unknown => expect.closeTo(n, 12);

const YAML = `
availability_defaults: { endpoint: 99%, zone: 99.9%, region: 99.99% }
sla_tiers:
  gold: { availability: 99.9%, rto: 5m, rpo: 1m }
regions:
  r1: { availability: 99.95% }
zones:
  z1: { region: r1 }
  z2: { region: r2, availability: 99.5% }
services:
  web:
    tier: gold
    depends_on: [main]
    endpoints:
      - { url: "http://10.0.0.1:8080", zone: z1 }
      - { url: "10.0.0.2:8080", name: b, zone: z2, backup: true, availability: 98% }
  api:
    endpoints: [{ url: "http://10.0.0.3:8080" }]
    health_check: { interval: 2s, timeout: 1s, fall: 2 }
databases:
  main:
    tier: gold
    postgres:
      ttl: 10s
      loop_wait: 2s
      members:
        - { name: pg1, host: 10.0.1.1, port: 5432, zone: z1 }
        - { name: pg2, host: 10.0.1.2, port: 5432, zone: z2, availability: 99.9% }
  one:
    postgres:
      members: [{ name: solo, host: 10.0.1.3, port: 5432 }]
`;

describe('toTopology', () => {
  const topology = toTopology(parsed(YAML));

  it('maps tiers, and zones and regions with their defaults (a zone\'s undeclared region included)', () => {
    expect(topology.tiers).toEqual({ gold: { availability: about(0.999), rtoMs: 300_000, rpoMs: 60_000 } });
    expect(topology.regions).toEqual({ r1: { availability: about(0.9995) }, r2: { availability: about(0.9999) } });
    expect(topology.zones).toEqual({ z1: { region: 'r1', availability: about(0.999) }, z2: { region: 'r2', availability: about(0.995) } });
  });

  it('maps a service\'s endpoints to members, and detection from its health check or the schema\'s defaults', () => {
    expect(topology.components['web']).toEqual({
      kind: 'service', tier: 'gold', dependsOn: ['main'], detectionMs: 10_000 * 3 + 5_000, failoverMs: 0,
      members: [
        { name: '10.0.0.1:8080', zone: 'z1', host: '10.0.0.1', availability: about(0.99), backup: false },
        { name: 'b', zone: 'z2', host: '10.0.0.2', availability: about(0.98), backup: true },
      ],
    });
    expect(topology.components['api']?.detectionMs).toBe(2_000 * 2 + 1_000);
  });

  it('gives a replicated postgres database its lease detection and promotion time, a single member none', () => {
    expect(topology.components['main']).toEqual({
      kind: 'database', tier: 'gold', dependsOn: [], detectionMs: 12_000, failoverMs: PROMOTION_ESTIMATE_MS,
      members: [
        { name: 'pg1', zone: 'z1', host: '10.0.1.1', availability: about(0.99), backup: false },
        { name: 'pg2', zone: 'z2', host: '10.0.1.2', availability: about(0.999), backup: false },
      ],
    });
    expect(topology.components['one']).toEqual({
      kind: 'database', tier: undefined, dependsOn: [],
      members: [{ name: 'solo', zone: undefined, host: '10.0.1.3', availability: about(0.99), backup: false }],
    });
  });

  it('gives a Redis database with Sentinel its down-after and election as recovery, and one without Sentinel none', () => {
    const config = parsed(`
databases:
  cache:
    redis:
      members: [{ name: r0, port: 6379 }, { name: r1, port: 6380 }]
      sentinel: { down_after: 30s, sentinels: ["10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"] }
  plain:
    redis: { members: [{ name: p0, port: 6379 }, { name: p1, port: 6380 }] }
`);
    const components = toTopology(config).components;
    expect(components['cache']).toMatchObject({ detectionMs: 30_000, failoverMs: SENTINEL_ELECTION_AND_PROMOTION_MS });
    expect(components['plain']?.detectionMs).toBeUndefined();
  });

  it('serviceDetectionMs is interval × fall + timeout', () => {
    const config = parsed(YAML);
    const api = config.services['api'];
    if (!api) throw new Error('fixture has no api');
    expect(serviceDetectionMs(api)).toBe(5_000);
  });
});
