import { describe, expect, it } from 'vitest';
import { regionPlan } from './region-plan.js';
import { configFrom } from './testing/world.js';

const base = (drill: string, members = '{ name: m1, port: 5432, zone: e1 }, { name: m2, port: 5433, zone: w1 }', westEndpoint = true) => configFrom(`
version: 1
sla_tiers: { gold: { availability: 99.9%, rto: 1m, rpo: 1s }, silver: { availability: 99%, rto: 1h, rpo: 1h } }
zones: { e1: { region: east }, e2: { region: east }, w1: { region: west } }
coordination: { etcd: { endpoints: [http://127.0.0.1:2379] } }
services:
  api:
    tier: silver
    listen: 127.0.0.1:8080
    endpoints:
      - { url: "http://127.0.0.1:9001", zone: e1 }
      - { url: "http://127.0.0.1:9002", zone: e2 }
${westEndpoint ? '      - { url: "http://127.0.0.1:9003", zone: w1, backup: true }' : ''}
databases:
  main-db: { tier: gold, postgres: { members: [${members}], superuser: bulwark } }
backups:
  repositories: { local: { path: /tmp/r } }
  policies: { main-db: { source: { postgres: main-db }, schedule: "0 2 * * *", copies: [local] } }
dr_testing:
  region-loss: ${drill}
`);

describe('regionPlan', () => {
  it('takes every endpoint of every zone of the region out, infers the DR region, switches the database over to a member there, grades against the strictest tier', () => {
    const config = base('{ type: full_dr_exercise, frequency: annually, region: east }');
    const p = regionPlan(config, config.dr_testing['region-loss']!, 'region-loss');
    expect(p).toMatchObject({ region: 'east', drRegion: 'west', target: { tier: 'gold', rtoMs: 60_000 } });
    expect(p.services[0]).toMatchObject({ service: 'api', zone: 'east' });
    expect(p.services[0]!.out.map((e) => e.url)).toEqual(['http://127.0.0.1:9001', 'http://127.0.0.1:9002']);
    expect(p.database).toMatchObject({ name: 'main-db', recovery: 'failover', inRegion: ['m1'], inDr: ['m2'], mode: 'switchover', to: 'm2' });
  });

  it('falls back to restoring the latest backup when the database has no member in the DR region', () => {
    const config = base('{ type: full_dr_exercise, frequency: annually, region: east }', '{ name: m1, port: 5432, zone: e1 }, { name: m2, port: 5433, zone: e2 }');
    expect(regionPlan(config, config.dr_testing['region-loss']!, 'region-loss').database).toMatchObject({ recovery: 'restore', inDr: [], policies: ['main-db'] });
  });

  it('refuses what cannot be drilled, saying what to do', () => {
    const noRegion = base('{ type: full_dr_exercise, frequency: annually }');
    expect(() => regionPlan(noRegion, noRegion.dr_testing['region-loss']!, 'region-loss')).toThrow(/needs region:/);
    const unknown = base('{ type: full_dr_exercise, frequency: annually, region: mars }');
    expect(() => regionPlan(unknown, unknown.dr_testing['region-loss']!, 'region-loss')).toThrow(/no zone is in region "mars"/);
    const noDr = base('{ type: full_dr_exercise, frequency: annually, region: east }', undefined, false);
    expect(() => regionPlan(noDr, noDr.dr_testing['region-loss']!, 'region-loss')).toThrow(/no endpoint in the DR region west/);
    const badTo = base('{ type: full_dr_exercise, frequency: annually, region: east, to: m1 }');
    expect(() => regionPlan(badTo, badTo.dr_testing['region-loss']!, 'region-loss')).toThrow(/m1 is not a member of main-db in the DR region west/);
  });
});
