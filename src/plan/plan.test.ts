import { describe, expect, it } from 'vitest';
import { planTopology } from './plan.js';
import type { PlanReport } from './report.js';
import { component, member, onHost, topology } from './testing/fixtures.js';

function plan(report: PlanReport, name: string) {
  const found = report.components.find((c) => c.name === name);
  if (!found) throw new Error(`no plan for ${name}`);
  return found;
}

describe('availability with shared failure domains', () => {
  it('two endpoints in ONE zone (0.99) of 0.999 each: the zone is in series → 0.99 × 0.999999', () => {
    const report = planTopology(topology({
      regions: { r: { availability: 1 } },
      zones: { a: { region: 'r', availability: 0.99 } },
      components: { api: component([member('e1', 0.999, 'a'), member('e2', 0.999, 'a')]) },
    }));
    expect(plan(report, 'api').availability.own).toBeCloseTo(0.99 * 0.999999, 14);
    expect(plan(report, 'api').availability.approximate).toBe(false);
  });

  it('endpoints in two zones of one region: 0.9999 × (1 − (1 − 0.99 × 0.999)²)', () => {
    const report = planTopology(topology({
      regions: { r: { availability: 0.9999 } },
      zones: { a: { region: 'r', availability: 0.99 }, b: { region: 'r', availability: 0.99 } },
      components: { api: component([member('e1', 0.999, 'a'), member('e2', 0.999, 'b')]) },
    }));
    // 0.99 × 0.999 = 0.98901; 1 − 0.01099² = 0.9998792199; × 0.9999 = 0.99977923197801
    expect(plan(report, 'api').availability.own).toBeCloseTo(0.99977923197801, 14);
    expect(plan(report, 'api').availability.domains).toBe(3);
  });

  it('a service and its database sharing a zone are correlated (not the naive product)', () => {
    const report = planTopology(topology({
      regions: { r: { availability: 0.999 } },
      zones: { a: { region: 'r', availability: 0.99 }, b: { region: 'r', availability: 0.99 } },
      components: {
        api: component([member('e1', 0.999, 'a'), member('e2', 0.999, 'b')], { dependsOn: ['db'] }),
        db: component([member('pg1', 0.995, 'a')], { kind: 'database' }),
      },
    }));
    // Region up (0.999), then zones:
    //   a up, b up   (0.9801): api 1 − 0.001² = 0.999999, db 0.995
    //   a up, b down (0.0099): api 0.999,                 db 0.995
    //   a down       : db down → 0; region down → 0
    // = 0.999 × 0.995 × (0.9801 × 0.999999 + 0.0099 × 0.999) = 0.9840541351261994
    const api = plan(report, 'api').availability;
    expect(api.endToEnd).toBeCloseTo(0.9840541351261994, 14);
    const naive = api.own * plan(report, 'db').availability.own;
    expect(naive).toBeCloseTo(0.9829621484423955, 14);
    expect(api.endToEnd - naive).toBeGreaterThan(0.001);
  });

  it('a single member and its dependency in one zone: the zone counts once', () => {
    const report = planTopology(topology({
      regions: { r: { availability: 1 } },
      zones: { a: { region: 'r', availability: 0.99 } },
      components: {
        api: component([member('e1', 0.999, 'a')], { dependsOn: ['db'] }),
        db: component([member('pg1', 0.995, 'a')], { kind: 'database' }),
      },
    }));
    expect(plan(report, 'api').availability.endToEnd).toBeCloseTo(0.99 * 0.999 * 0.995, 14);
  });

  it('backup members count toward parallel availability', () => {
    const report = planTopology(topology({
      components: { api: component([member('primary', 0.99), member('standby', 0.99, undefined, true)]) },
    }));
    expect(plan(report, 'api').availability.own).toBeCloseTo(0.9999, 14);
  });

  it('counts a shared dependency once in a diamond', () => {
    const report = planTopology(topology({
      components: {
        a: component([member('a1', 0.99)], { dependsOn: ['b', 'c'] }),
        b: component([member('b1', 0.99)], { dependsOn: ['d'] }),
        c: component([member('c1', 0.99)], { dependsOn: ['d'] }),
        d: component([member('d1', 0.9)]),
      },
    }));
    expect(plan(report, 'a').availability.endToEnd).toBeCloseTo(0.99 ** 3 * 0.9, 14);
    expect(plan(report, 'b').availability.endToEnd).toBeCloseTo(0.99 * 0.9, 14);
  });

  it('enumerates up to 16 uncertain domains exactly and approximates above', () => {
    const zoneNames = Array.from({ length: 17 }, (_, i) => `z${i}`);
    const build = (n: number) => planTopology(topology({
      regions: { r: { availability: 1 } },
      zones: Object.fromEntries(zoneNames.map((z) => [z, { region: 'r', availability: 0.9 }])),
      components: { api: component(zoneNames.slice(0, n).map((z) => member(`e-${z}`, 0.9, z))) },
    }));
    const exact = build(16);
    expect(exact.approximate).toBe(false);
    expect(plan(exact, 'api').availability.own).toBeCloseTo(1 - (1 - 0.81) ** 16, 14);
    const approx = build(17);
    expect(approx.approximate).toBe(true);
    expect(plan(approx, 'api').availability).toMatchObject({ approximate: true, domains: 17 });
    // Zones in one certain region are independent, so the fallback happens to be exact here.
    expect(plan(approx, 'api').availability.own).toBeCloseTo(1 - (1 - 0.81) ** 17, 14);
  });

  it('above the exact limit it falls back to independent components and says so', () => {
    const report = planTopology(topology({
      regions: { r: { availability: 1 } },
      zones: { a: { region: 'r', availability: 0.99 }, b: { region: 'r', availability: 0.99 } },
      components: {
        api: component([member('e1', 0.999, 'a')], { dependsOn: ['db'] }),
        db: component([member('pg1', 0.995, 'b')], { kind: 'database' }),
      },
    }), { maxExactDomains: 1 });
    expect(report.approximate).toBe(true);
    expect(plan(report, 'api').availability).toMatchObject({ approximate: true, domains: 2 });
    expect(plan(report, 'db').availability.approximate).toBe(false);
    expect(plan(report, 'api').availability.endToEnd).toBeCloseTo(0.99 * 0.999 * 0.99 * 0.995, 14);
    expect(report.findings.map((f) => f.code)).toContain('APPROXIMATE');
  });
});

describe('hosts as failure domains', () => {
  const db = (...hosts: string[]) => component(hosts.map((h, i) => onHost(member(`pg${i + 1}`, 0.995), h)), { kind: 'database' });

  it('three members on one host are no more available than the host (the best member: 0.995), not 1 − 0.005³', () => {
    const oneHost = planTopology(topology({ components: { main: db('127.0.0.1', '127.0.0.1', '127.0.0.1') } }));
    expect(plan(oneHost, 'main').availability).toEqual({ own: 0.995, endToEnd: 0.995, approximate: false, domains: 1 });
    expect(oneHost.spofs).toEqual([expect.objectContaining({ component: 'main', scope: 'host', domain: '127.0.0.1' })]);
    const threeHosts = planTopology(topology({ components: { main: db('10.0.0.1', '10.0.0.2', '10.0.0.3') } }));
    expect(plan(threeHosts, 'main').availability.own).toBeCloseTo(1 - 0.005 ** 3, 14);
    expect(plan(threeHosts, 'main').availability.domains).toBe(0);
    expect(threeHosts.spofs).toEqual([]);
  });

  it('every loopback name is one host', () => {
    const report = planTopology(topology({ components: { main: db('127.0.0.1', 'localhost', '::1') } }));
    expect(plan(report, 'main').availability.own).toBeCloseTo(0.995, 14);
  });

  it('a host is as available as its best member; each member keeps its own figure', () => {
    const report = planTopology(topology({
      components: { main: component([onHost(member('pg1', 0.99), 'h'), onHost(member('pg2', 0.999), 'h')], { kind: 'database' }) },
    }));
    // host 0.999; pg2 adds nothing on it, pg1 is 0.99 / 0.999 given the host: the set is the host's 0.999.
    expect(plan(report, 'main').availability.own).toBeCloseTo(0.999, 14);
  });

  it('a service and its database on one host fail together', () => {
    const report = planTopology(topology({
      components: {
        api: component([onHost(member('e1', 0.99), 'h')], { dependsOn: ['db'] }),
        db: component([onHost(member('pg1', 0.995), 'h')], { kind: 'database' }),
      },
    }));
    // host 0.995 × e1 given the host (0.99 / 0.995) × pg1 given the host (1) = 0.99, not 0.99 × 0.995.
    expect(plan(report, 'api').availability.endToEnd).toBeCloseTo(0.99, 14);
    expect(plan(report, 'db').availability.own).toBeCloseTo(0.995, 14);
  });

  it('members on distinct hosts in one zone keep the zone model', () => {
    const report = planTopology(topology({
      regions: { r: { availability: 1 } },
      zones: { a: { region: 'r', availability: 0.99 } },
      components: { api: component([onHost(member('e1', 0.999, 'a'), 'h1'), onHost(member('e2', 0.999, 'a'), 'h2')]) },
    }));
    expect(plan(report, 'api').availability.own).toBeCloseTo(0.99 * 0.999999, 14);
  });

  it('members that declare different zones are taken at their word on one address', () => {
    const zoned = (host?: string) => planTopology(topology({
      regions: { r: { availability: 0.9999 } },
      zones: { a: { region: 'r', availability: 0.99 }, b: { region: 'r', availability: 0.99 } },
      components: {
        api: component([member('e1', 0.999, 'a'), member('e2', 0.999, 'b')].map((m) => (host ? onHost(m, host) : m))),
      },
    }));
    expect(plan(zoned('127.0.0.1'), 'api').availability).toEqual(plan(zoned(), 'api').availability);
    expect(zoned('127.0.0.1').spofs.map((s) => s.scope)).toEqual(['region']);
  });

  it('a host with one member is no extra domain', () => {
    const report = planTopology(topology({ components: { api: component([onHost(member('e1', 0.99), 'h1'), onHost(member('e2', 0.99), 'h2')]) } }));
    expect(plan(report, 'api').availability).toMatchObject({ domains: 0 });
    expect(plan(report, 'api').availability.own).toBeCloseTo(0.9999, 14);
  });
});

describe('targets, budgets and recovery', () => {
  const t = topology({
    tiers: {
      standard: { availability: 0.999, rtoMs: 4 * 3_600_000, rpoMs: 3_600_000 },
      enterprise: { availability: 0.9999, rtoMs: 30 * 60_000, rpoMs: 5 * 60_000 },
    },
    components: {
      api: component([member('e1', 0.999), member('e2', 0.999)], { tier: 'enterprise', detectionMs: 35_000, failoverMs: 0 }),
      db: component([member('pg1', 0.999)], { kind: 'database', tier: 'enterprise', detectionMs: 30 * 60_000, failoverMs: 60_000 }),
      web: component([member('w1', 0.9995)], { tier: 'standard' }),
    },
  });
  const report = planTopology(t);

  it('compares the modelled availability with the tier target', () => {
    expect(plan(report, 'api')).toMatchObject({ meetsTarget: true, tier: 'enterprise' });
    expect(plan(report, 'db').meetsTarget).toBe(false);
    expect(plan(report, 'web').meetsTarget).toBe(true);
    expect(report.findings.filter((f) => f.code === 'BELOW_TARGET').map((f) => f.component)).toEqual(['db']);
  });

  it('gives the budget of the target and the expected downtime of the model', () => {
    const web = plan(report, 'web');
    expect(web.budget?.yearMs).toBeCloseTo(0.001 * 365 * 86_400_000, 3);
    expect(web.expectedDowntime.yearMs).toBeCloseTo(0.0005 * 365 * 86_400_000, 3);
    expect(web.expectedDowntime.monthMs).toBeCloseTo((0.0005 * 365 * 86_400_000) / 12, 3);
  });

  it('estimates recovery as detection + failover against the RTO', () => {
    expect(plan(report, 'api').recovery).toEqual({ detectionMs: 35_000, estimatedRecoveryMs: 35_000, rtoMs: 1_800_000, meetsRto: true });
    expect(plan(report, 'db').recovery).toEqual({ detectionMs: 1_800_000, estimatedRecoveryMs: 1_860_000, rtoMs: 1_800_000, meetsRto: false });
    expect(plan(report, 'web').recovery).toEqual({ detectionMs: null, estimatedRecoveryMs: null, rtoMs: 14_400_000, meetsRto: null });
    expect(report.findings.find((f) => f.code === 'RTO_EXCEEDED')?.component).toBe('db');
  });

  it('advises the DR strategy of the tier', () => {
    expect(plan(report, 'api').strategy?.strategy).toBe('warm_standby');
    expect(plan(report, 'web').strategy?.strategy).toBe('backup_restore');
  });
});

describe('broken topologies produce findings, not crashes', () => {
  it('detects a dependency cycle', () => {
    const report = planTopology(topology({
      components: {
        a: component([member('a1', 0.99)], { dependsOn: ['b'] }),
        b: component([member('b1', 0.99)], { dependsOn: ['a'] }),
      },
    }));
    const cycles = report.findings.filter((f) => f.code === 'DEPENDENCY_CYCLE');
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toMatchObject({ severity: 'error', message: expect.stringContaining('a → b → a') });
    expect(plan(report, 'a').availability.endToEnd).toBeCloseTo(0.99 * 0.99, 14);
  });

  it('detects a self-dependency', () => {
    const report = planTopology(topology({ components: { a: component([member('a1', 0.99)], { dependsOn: ['a'] }) } }));
    expect(report.findings.find((f) => f.code === 'DEPENDENCY_CYCLE')?.message).toContain('a → a');
  });

  it('reports unknown names and empty components', () => {
    const report = planTopology(topology({
      zones: { a: { region: 'nowhere', availability: 0.99 } },
      components: {
        api: component([member('e1', 0.999, 'mars'), member('e2', 0.999, 'a')], { tier: 'gold', dependsOn: ['ghost'] }),
        empty: component([]),
      },
    }));
    expect(report.findings.map((f) => f.code).sort()).toEqual(
      ['NO_MEMBERS', 'UNKNOWN_DEPENDENCY', 'UNKNOWN_REGION', 'UNKNOWN_TIER', 'UNKNOWN_ZONE'],
    );
    expect(plan(report, 'empty').availability.own).toBe(0);
    expect(plan(report, 'api').dependsOn).toEqual([]);
  });

  it('rejects an availability outside 0..1', () => {
    const report = planTopology(topology({ components: { a: component([member('a1', 99.9)]) } }));
    expect(report.findings[0]?.code).toBe('INVALID_AVAILABILITY');
    expect(plan(report, 'a').availability.own).toBe(0);
  });
});
