import { describe, expect, it } from 'vitest';
import { BASE, byRule, lintYaml } from './testing.js';

const DB = (extra = '', tier = 'tier: gold') => `
databases:
  db:
    ${tier}
    postgres:
      members:
        - { name: a, port: 5432, zone: z1 }
        - { name: b, port: 5433, zone: z2 }
${extra}`;

const REPOS = `
backups:
  repositories:
    offsite: { s3: { bucket: backups } }
  policies:
`;

describe('lint.rpo_without_backup', () => {
  it('flags a database whose tier promises an RPO that no policy backs up, at its tier key', () => {
    const [f] = byRule(lintYaml(BASE + DB()), 'lint.rpo_without_backup');
    expect(f).toMatchObject({ severity: 'error', path: ['databases', 'db', 'tier'] });
    expect(f?.location).toMatchObject({ line: 13, column: 11 });
    expect(f?.message).toContain('RPO of 1h');
    expect(f?.hint).toContain('schedule: "hourly", wal_archiving: true');
  });

  it('holds an untiered database to the strictest tier of the services that use it', () => {
    const findings = lintYaml(BASE.replace('sla_tiers:', 'sla_tiers:\n  bronze: { availability: 90%, rto: 1d, rpo: 1d }') + DB('', '') + `
services:
  api: { tier: bronze, endpoints: [{ url: http://a:1, zone: z1 }, { url: http://b:1, zone: z2 }], depends_on: [web] }
  web: { tier: gold, endpoints: [{ url: http://a:2, zone: z1 }, { url: http://b:2, zone: z2 }], depends_on: [db] }
`);
    const [f] = byRule(findings, 'lint.rpo_without_backup');
    expect(f?.path).toEqual(['databases', 'db']);
    expect(f?.message).toContain('tier gold (inherited from web, which depends on it)');
  });

  it('is quiet for a database without any tier', () => {
    expect(byRule(lintYaml(BASE + DB('', '')), 'lint.rpo_without_backup')).toEqual([]);
  });
});

describe('lint.schedule_exceeds_rpo', () => {
  it('flags a daily backup under a 1h RPO without WAL archiving, naming the gap and the fix', () => {
    const yaml = BASE + DB(REPOS + '    nightly: { source: { postgres: db }, schedule: daily at 02:00, copies: [offsite] }\n');
    const [f] = byRule(lintYaml(yaml), 'lint.schedule_exceeds_rpo');
    expect(f).toMatchObject({ severity: 'error', path: ['backups', 'policies', 'nightly', 'schedule'] });
    expect(f?.message).toContain('up to 1d apart');
    expect(f?.message).toContain('RPO of 1h');
    expect(f?.hint).toContain('wal_archiving: true');
    expect(f?.hint).toContain('"hourly"');
  });

  it('accepts WAL archiving or a dense enough schedule', () => {
    const wal = BASE + DB(REPOS + '    nightly: { source: { postgres: db }, schedule: daily, wal_archiving: true, copies: [offsite] }\n');
    const hourly = BASE + DB(REPOS + '    hourly: { source: { postgres: db }, schedule: every 30 minutes, copies: [offsite] }\n');
    expect(byRule(lintYaml(wal), 'lint.schedule_exceeds_rpo')).toEqual([]);
    expect(byRule(lintYaml(hourly), 'lint.schedule_exceeds_rpo')).toEqual([]);
  });

  it('refuses WAL archiving on a redis source, which does not count towards the RPO', () => {
    const yaml = BASE + `
databases:
  cache: { tier: gold, redis: { members: [{ name: r, port: 6379, zone: z1 }, { name: s, port: 6380, zone: z2 }] } }
` + REPOS + '    cache: { source: { redis: cache }, schedule: daily, wal_archiving: true, copies: [offsite] }\n';
    const findings = lintYaml(yaml);
    expect(byRule(findings, 'lint.wal_archiving_unsupported')[0]?.path).toEqual(['backups', 'policies', 'cache', 'wal_archiving']);
    const [gap] = byRule(findings, 'lint.schedule_exceeds_rpo');
    expect(gap?.hint).toBe('schedule it at least every 1h ("hourly")');
  });
});

describe('lint.rto_below_recovery', () => {
  it('flags a service whose health check cannot notice a failure within the RTO', () => {
    const yaml = BASE.replace('rto: 30m', 'rto: 20s') + `
services:
  api:
    tier: gold
    endpoints: [{ url: http://a:1, zone: z1 }, { url: http://b:1, zone: z2 }]
    health_check: { interval: 10s, timeout: 5s, fall: 3 }
`;
    const [f] = byRule(lintYaml(yaml), 'lint.rto_below_recovery');
    expect(f).toMatchObject({ severity: 'error', path: ['services', 'api', 'health_check'] });
    expect(f?.message).toBe('service api needs about 35s to detect a dead member and fail over, longer than the RTO of 20s promised by tier gold');
    expect(f?.hint).toMatch(/interval, fall or timeout/);
  });

  it('flags a postgres cluster whose lease outlives the RTO and names ttl/loop_wait', () => {
    const yaml = BASE.replace('rto: 30m', 'rto: 10s') + DB().replace('zone: z2 }', 'zone: z2 }\n      ttl: 30s\n      loop_wait: 10s');
    const [f] = byRule(lintYaml(yaml), 'lint.rto_below_recovery');
    expect(f).toMatchObject({ path: ['databases', 'db', 'postgres', 'ttl'] });
    expect(f?.message).toContain('about 42s');
    expect(f?.hint).toContain('ttl or loop_wait');
  });
});

describe('lint.availability_unreachable', () => {
  it('points at the tier and names the single points of failure of the component and its dependencies', () => {
    const yaml = BASE.replace('99.9%', '99.99%') + `
services:
  api:
    tier: gold
    endpoints: [{ url: http://a:1, zone: z1 }, { url: http://b:1, zone: z2 }]
    depends_on: [db]
databases:
  db: { postgres: { members: [{ name: solo, port: 5432, zone: z1 }] } }
`;
    const [f] = byRule(lintYaml(yaml), 'lint.availability_unreachable');
    expect(f).toMatchObject({ severity: 'error', path: ['services', 'api', 'tier'] });
    expect(f?.location).toMatchObject({ line: 13, column: 11 });
    expect(f?.message).toMatch(/promises 99\.99% availability \(tier gold\), but its topology can reach at most 99\.\d+% end to end/);
    expect(f?.message).toContain('single points of failure: db (only member solo)');
  });
});

describe('lint.dependency_cycle', () => {
  it('reports each cycle once at the dependency that closes it', () => {
    const yaml = `
services:
  a: { endpoints: [{ url: http://a:1 }], depends_on: [b] }
  b: { endpoints: [{ url: http://b:1 }], depends_on: [c] }
  c: { endpoints: [{ url: http://c:1 }], depends_on: [a] }
`;
    const found = byRule(lintYaml(yaml), 'lint.dependency_cycle');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', path: ['services', 'a', 'depends_on', 0] });
    expect(found[0]?.message).toContain('a → b → c → a');
  });
});
