import { describe, expect, it } from 'vitest';
import { configSchema, type BulwarkConfig } from '../config/index.js';
import { WORKBOOK_BURN_RATE_ALERTS } from './burn-rate.js';
import { effectiveRules, escalationPolicyFor, type ResolvedRule } from './default-rules.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

function parse(input: Record<string, unknown>): BulwarkConfig {
  return configSchema.parse(input);
}

const TOPOLOGY = {
  coordination: { etcd: { endpoints: ['http://127.0.0.1:2379'] } },
  sla_tiers: {
    standard: { availability: '99.9%', rto: '4h', rpo: '1h' },
    enterprise: { availability: '99.95%', rto: '30m', rpo: '5m' },
  },
  regions: { 'us-east-1': {} },
  zones: { a: { region: 'us-east-1' }, b: { region: 'us-east-1' } },
  services: {
    api: { tier: 'enterprise', endpoints: [{ url: 'http://127.0.0.1:9001', zone: 'a' }, { url: 'http://127.0.0.1:9002', zone: 'b' }] },
    admin: { endpoints: [{ url: 'http://127.0.0.1:9003' }] },
  },
  databases: {
    'main-db': {
      tier: 'enterprise',
      postgres: {
        members: [{ name: 'pg-a', port: 15432, zone: 'a' }, { name: 'pg-b', port: 15433, zone: 'b' }],
        synchronous: { standbys: 1, strict: false, degrade_after: '10s' },
      },
    },
    cache: { tier: 'standard', redis: { members: [{ name: 'r-a', port: 16379 }] }, health_check: { quorum: 2 } },
  },
  backups: {
    repositories: { local: { path: '/var/backups' } },
    policies: {
      'main-db': { source: { postgres: 'main-db' }, schedule: 'daily', wal_archiving: true, copies: ['local'], verify: { schedule: 'weekly' } },
      cache: { source: { redis: 'cache' }, schedule: 'every 30 minutes', copies: ['local'] },
      files: { source: { paths: ['/etc/bulwark'] }, schedule: 'on change', copies: ['local'] },
    },
  },
};

function byName(rules: ResolvedRule[]): Record<string, ResolvedRule> {
  return Object.fromEntries(rules.map((r) => [r.name, r]));
}

describe('effectiveRules: defaults from the tiers and the topology', () => {
  const rules = effectiveRules(parse(TOPOLOGY));
  const r = byName(rules);

  it('lists every default rule with a stable name, in a stable order', () => {
    expect(rules.map((x) => `${x.name} ${x.severity}`)).toEqual([
      'api:service_down critical',
      'api:error_budget_burn:fast critical',
      'api:error_budget_burn:slow warning',
      'api:endpoint_down warning',
      'admin:service_down warning',
      'main-db:database_down critical',
      'main-db:error_budget_burn:fast critical',
      'main-db:error_budget_burn:slow warning',
      'main-db:endpoint_down warning',
      'cache:database_down critical',
      'cache:error_budget_burn:fast critical',
      'cache:error_budget_burn:slow warning',
      'zone_down critical',
      'region_down critical',
      'main-db:failover warning',
      'main-db:no_sync_standby critical',
      'main-db:replication_lag warning',
      'main-db:backup_failed warning',
      'main-db:backup_stale warning',
      'main-db:verify_failed warning',
      'main-db:wal_archive_lag critical',
      'cache:backup_failed warning',
      'cache:backup_stale critical',
      'files:backup_failed warning',
      'files:backup_stale warning',
      'agent_silent warning',
    ]);
    expect(rules.every((x) => x.origin === 'default' && x.template === null && x.policy === null)).toBe(true);
    expect(effectiveRules(parse(TOPOLOGY))).toEqual(rules);
  });

  it('fast burns page on the workbook\'s page rows, slow burns open a ticket, against the tier\'s target', () => {
    expect(r['api:error_budget_burn:fast']!.thresholds).toEqual({ burnRates: WORKBOOK_BURN_RATE_ALERTS.slice(0, 2), availability: { 'service/api': 0.9995 } });
    expect(r['cache:error_budget_burn:slow']!.thresholds).toEqual({ burnRates: [WORKBOOK_BURN_RATE_ALERTS[2]], availability: { 'database/cache': expect.closeTo(0.999, 12) } });
    expect(r['api:error_budget_burn:fast']).toMatchObject({ groupBy: 'service', subjects: { services: ['api'], databases: [] } });
  });

  it('groups endpoint_down per zone, and only where there is more than one endpoint', () => {
    expect(r['api:endpoint_down']).toMatchObject({ groupBy: 'zone', subjects: { services: ['api'] } });
    expect(r['admin:endpoint_down']).toBeUndefined();
    expect(r['cache:endpoint_down']).toBeUndefined();
  });

  it('zone and region rules cover every zone and region', () => {
    expect(r['zone_down']!.subjects).toMatchObject({ zones: ['a', 'b'], regions: [] });
    expect(r['region_down']!.subjects).toMatchObject({ regions: ['us-east-1'] });
  });

  it('backup staleness: the tier\'s RPO without WAL archiving; with it, or untiered, one missed run', () => {
    expect(r['cache:backup_stale']!.thresholds).toEqual({ maxAgeMs: { cache: H } });
    expect(r['main-db:backup_stale']!.thresholds).toEqual({ maxAgeMs: { 'main-db': 2 * D } });
    expect(r['files:backup_stale']!.thresholds).toEqual({ maxAgeMs: { files: 2 * D } });
    expect(r['main-db:wal_archive_lag']!.thresholds).toEqual({ maxLagMs: { 'main-db': 5 * M } });
    expect(r['files:verify_failed']).toBeUndefined();
  });

  it('PostgreSQL under etcd: failover is one-shot; no synchronous standby waits out degrade_after; lag uses maximum_lag_on_failover', () => {
    expect(r['main-db:failover']).toMatchObject({ oneShot: true, subjects: { databases: ['main-db'] } });
    expect(r['main-db:no_sync_standby']!.forMs).toBe(10_000);
    expect(r['main-db:replication_lag']).toMatchObject({ forMs: M, thresholds: { maxLagBytes: { 'main-db': 1_048_576 } } });
    expect(rules.filter((x) => !x.oneShot).map((x) => x.when)).not.toContain('failover');
  });

  it('uses the database\'s own max_lag when it has one', () => {
    const withLag = parse({ ...TOPOLOGY, databases: { ...TOPOLOGY.databases, 'main-db': { ...TOPOLOGY.databases['main-db'], health_check: { max_lag: '16MB' } } } });
    expect(byName(effectiveRules(withLag))['main-db:replication_lag']!.thresholds.maxLagBytes).toEqual({ 'main-db': 16_000_000 });
  });

  it('without etcd, zones, regions, backups or quorum, those rules are absent', () => {
    const bare = parse({ services: { web: { tier: 'std', endpoints: [{ url: 'http://127.0.0.1:1' }] } }, sla_tiers: { std: { availability: '99%', rto: '1h', rpo: '1h' } } });
    expect(effectiveRules(bare).map((x) => x.name)).toEqual(['web:service_down', 'web:error_budget_burn:fast', 'web:error_budget_burn:slow']);
    const noEtcd = parse({ ...TOPOLOGY, coordination: undefined });
    expect(effectiveRules(noEtcd).map((x) => x.when)).not.toContain('failover');
  });

  it('names a service\'s and a database\'s rules apart when they share a name', () => {
    const shared = parse({
      services: { cache: { endpoints: [{ url: 'http://127.0.0.1:1' }] } },
      databases: { cache: { redis: { members: [{ name: 'r', port: 6379 }] } } },
    });
    expect(effectiveRules(shared).map((x) => x.name)).toEqual(['service/cache:service_down', 'database/cache:database_down']);
  });
});

describe('effectiveRules: configured rules', () => {
  const alerting = {
    escalation_policies: { critical: [{ notify: 'oncall' }], standard: [{ notify: 'oncall' }] },
    severity_policies: { warning: 'standard' },
  };

  it('a rules: key, even empty, means exactly those rules', () => {
    expect(effectiveRules(parse({ ...TOPOLOGY, alerting: { ...alerting, rules: {} } }))).toEqual([]);
  });

  it('resolves subjects, policy, thresholds and templates', () => {
    const config = parse({
      ...TOPOLOGY,
      alerting: {
        ...alerting,
        rules: {
          'api-down': { when: 'service_down', services: ['api'], for: '1m', severity: 'critical', template: 'incident', resolution_template: 'resolved' },
          burn: { when: 'error_budget_burn', severity: 'warning' },
          'burn-page': { when: 'error_budget_burn', severity: 'critical', escalation: 'standard', databases: ['cache'] },
          stale: { when: 'backup_stale' },
          lag: { when: 'replication_lag', max_lag: '32MB', severity: 'info' },
          wal: { when: 'wal_archive_lag', max_lag: '30s' },
          verify: { when: 'verify_failed' },
          certs: { when: 'certificate_expiring' },
          errors: { when: 'metric', metric: 'bulwark_gateway_errors_total', labels: { service: 'api' }, above: 5 },
        },
      },
    });
    const r = byName(effectiveRules(config));
    expect(r['api-down']).toMatchObject({
      when: 'service_down', severity: 'critical', forMs: M, policy: 'critical', origin: 'configured', template: 'incident', resolutionTemplate: 'resolved',
      subjects: { services: ['api'], databases: [], policies: [] },
    });
    expect(r['burn']).toMatchObject({ policy: 'standard', subjects: { services: ['api'], databases: ['main-db', 'cache'] } });
    expect(r['burn']!.thresholds.burnRates).toEqual([WORKBOOK_BURN_RATE_ALERTS[2]]);
    expect(r['burn-page']).toMatchObject({ policy: 'standard', subjects: { services: [], databases: ['cache'] }, thresholds: { availability: { 'database/cache': expect.closeTo(0.999, 12) } } });
    expect(r['burn-page']!.thresholds.burnRates).toEqual(WORKBOOK_BURN_RATE_ALERTS.slice(0, 2));
    expect(r['stale']!.thresholds.maxAgeMs).toEqual({ 'main-db': 2 * D, cache: H, files: 2 * D });
    expect(r['lag']).toMatchObject({ policy: null, subjects: { databases: ['main-db'] }, thresholds: { maxLagBytes: { 'main-db': 32_000_000 } } });
    expect(r['wal']).toMatchObject({ subjects: { policies: ['main-db'] }, thresholds: { maxLagMs: { 'main-db': 30_000 } } });
    expect(r['verify']!.subjects.policies).toEqual(['main-db']);
    expect(r['certs']).toMatchObject({ subjects: { services: ['api', 'admin'] }, thresholds: { withinMs: 14 * D } });
    expect(r['errors']!.thresholds).toEqual({ metric: 'bulwark_gateway_errors_total', labels: { service: 'api' }, above: 5, below: undefined });
  });
});

describe('escalationPolicyFor', () => {
  it('the rule\'s own, then severity_policies, then a policy named like the severity, then none', () => {
    const config = parse({ alerting: { escalation_policies: { critical: [{ notify: 'x' }], other: [{ notify: 'x' }] }, severity_policies: { warning: 'other' } } });
    expect(escalationPolicyFor(config, 'info', 'mine')).toBe('mine');
    expect(escalationPolicyFor(config, 'warning')).toBe('other');
    expect(escalationPolicyFor(config, 'critical')).toBe('critical');
    expect(escalationPolicyFor(config, 'info')).toBeNull();
    expect(escalationPolicyFor(parse({}), 'critical')).toBeNull();
  });
});
