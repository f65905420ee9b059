import { describe, expect, it } from 'vitest';
import { EventBus } from '../../events/index.js';
import { targetsFromConfig, type HealthStatus, type ProbeEvents, type ProbeTarget } from '../../probes/index.js';
import { ProbeSource } from './probes.js';
import { brief, recorder, setup } from './testing/fixtures.js';

const YAML = `
sla_tiers:
  premium: { availability: 99.9%, rto: 5m, rpo: 1m }
regions:
  us: {}
zones:
  us-a: { region: us }
  us-b: { region: us }
services:
  api:
    tier: premium
    endpoints:
      - { name: a1, url: "http://127.0.0.1:1", zone: us-a }
      - { name: b1, url: "http://127.0.0.1:2", zone: us-b }
`;

function harness(yaml = YAML) {
  const { config, rules } = setup(yaml);
  const bus = new EventBus<ProbeEvents>();
  const targets = new Map(targetsFromConfig(config).map((t) => [t.member, t]));
  const rec = recorder();
  let now = 1_000;
  const source = new ProbeSource({ rules, config, bus, now: () => now });
  const target = (member: string, to: HealthStatus, from: HealthStatus = 'up'): void => {
    now += 1_000;
    bus.emit('target.state', { target: targets.get(member) as ProbeTarget, from, to, at: now, reason: 'test' });
  };
  const owner = (name: string, to: HealthStatus, from: HealthStatus = 'up'): void => {
    now += 1_000;
    bus.emit('owner.state', { kind: 'service', name, from, to, at: now });
  };
  return { config, rules, bus, source, rec, target, owner };
}

describe('ProbeSource', () => {
  it('reports endpoint, zone, region and service down once per change', () => {
    const h = harness();
    h.source.start(h.rec.emit);
    expect(h.rec.take()).toEqual([]);

    h.target('a1', 'down');
    const first = h.rec.take();
    expect(brief(first)).toEqual([
      ['api:endpoint_down', 'endpoint/service/api/a1', true],
      ['zone_down', 'zone/us-a', true],
    ]);
    expect(first[0]?.labels).toEqual({ service: 'api', endpoint: 'a1', zone: 'us-a', region: 'us', tier: 'premium' });
    expect(first[1]?.summary).toBe('zone us-a is down (all 1 target failing)');

    h.target('a1', 'down', 'down');
    expect(h.rec.take()).toEqual([]);

    h.target('b1', 'down');
    h.owner('api', 'down');
    const second = h.rec.take();
    expect(brief(second)).toEqual([
      ['api:endpoint_down', 'endpoint/service/api/b1', true],
      ['zone_down', 'zone/us-b', true],
      ['region_down', 'region/us', true],
      ['api:service_down', 'service/api', true],
    ]);
    expect(second[3]?.summary).toBe('api is down (all 2 endpoints failing)');
    expect(second[3]?.labels).toEqual({ service: 'api', tier: 'premium', region: 'us' });
    expect(h.source.snapshot()).toHaveLength(6);

    h.target('a1', 'up', 'down');
    h.owner('api', 'up', 'down');
    const third = h.rec.take();
    expect(brief(third)).toEqual([
      ['api:endpoint_down', 'endpoint/service/api/a1', false],
      ['zone_down', 'zone/us-a', false],
      ['region_down', 'region/us', false],
      ['api:service_down', 'service/api', false],
    ]);
    expect(third[3]?.summary).toBe('api is up again (1 of 2 endpoints failing)');
    h.source.stop();
  });

  it('does not call a zone down while some of its targets are only unknown', () => {
    const h = harness(YAML.replace('zone: us-b', 'zone: us-a'));
    h.source.start(h.rec.emit);
    h.target('a1', 'down');
    expect(brief(h.rec.take())).toEqual([['api:endpoint_down', 'endpoint/service/api/a1', true]]);
  });

  it('re-derives firing alerts from the engine views at start', () => {
    const { config, rules } = setup(YAML);
    const bus = new EventBus<ProbeEvents>();
    const targets = targetsFromConfig(config);
    const views = {
      targetViews: () => targets.map((t) => ({ id: t.id, owner: t.owner, member: t.member, zone: t.zone, status: 'down' as const })),
      ownerViews: () => [{ kind: 'service' as const, name: 'api', status: 'down' as const }],
      agentViews: () => [],
    };
    const rec = recorder();
    const source = new ProbeSource({ rules, config, bus, views, now: () => 5_000 });
    source.start(rec.emit);
    expect(rec.batches).toHaveLength(1);
    expect(brief(rec.take()).map(([, subject]) => subject).sort()).toEqual([
      'endpoint/service/api/a1', 'endpoint/service/api/b1', 'region/us', 'service/api', 'zone/us-a', 'zone/us-b',
    ]);
    expect(source.snapshot()).toHaveLength(6);
    source.stop();
  });

  it('keeps to the services a configured rule names, and reports silent agents', () => {
    const h = harness(`${YAML}
  web:
    endpoints:
      - { name: w1, url: "http://127.0.0.1:3" }
alerting:
  rules:
    web-endpoint: { when: endpoint_down, services: [web] }
    silent: { when: agent_silent }
`);
    h.source.start(h.rec.emit);
    h.target('a1', 'down');
    h.target('w1', 'down');
    expect(brief(h.rec.take())).toEqual([['web-endpoint', 'endpoint/service/web/w1', true]]);
    h.bus.emit('agent.state', { agent: 'eu-1', zone: 'us-b', reporting: false, at: 9_000 });
    h.bus.emit('agent.state', { agent: 'eu-1', zone: 'us-b', reporting: false, at: 9_500 });
    const silent = h.rec.take();
    expect(brief(silent)).toEqual([['silent', 'agent/eu-1', true]]);
    expect(silent[0]?.labels).toEqual({ agent: 'eu-1', zone: 'us-b', region: 'us' });
  });

  it('clears alerts of rules a reload removed, and stops listening on stop', () => {
    const h = harness();
    h.source.start(h.rec.emit);
    h.target('a1', 'down');
    h.rec.take();
    h.source.reload(h.rules.filter((r) => r.when !== 'zone_down'), h.config);
    const cleared = h.rec.take();
    expect(brief(cleared)).toEqual([['zone_down', 'zone/us-a', false]]);
    expect(cleared[0]?.summary).toContain('rule removed');
    h.source.stop();
    h.target('b1', 'down');
    expect(h.rec.take()).toEqual([]);
  });
});
