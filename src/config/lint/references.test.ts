import { describe, expect, it } from 'vitest';
import { BASE, byRule, lintYaml } from './testing.js';

const SERVICES = `
services:
  api:
    tier: gld
    endpoints:
      - { url: http://a:1, zone: z1 }
      - { url: http://b:1, zone: zz2 }
    failover: { primary_zones: [z1, z3] }
    depends_on: [main-db, api, cahce]
databases:
  main-db:
    postgres:
      members:
        - { name: a, port: 5432, zone: z1 }
        - { name: b, port: 5433, zone: z9 }
  cache:
    redis: { members: [{ name: r, port: 6379, zone: z1 }] }
`;

describe('lint.unknown_reference', () => {
  it('reports tiers, zones and dependencies with did-you-mean and exact locations', () => {
    const findings = lintYaml(BASE + SERVICES);
    const refs = byRule(findings, 'lint.unknown_reference');
    expect(refs.map((f) => f.path.join('.'))).toEqual([
      'services.api.tier',
      'services.api.endpoints.1.zone',
      'services.api.failover.primary_zones.1',
      'services.api.depends_on.2',
      'databases.main-db.postgres.members.1.zone',
    ]);
    const tier = refs[0];
    expect(tier?.severity).toBe('error');
    expect(tier?.hint).toBe('did you mean "gold"?');
    expect(tier?.location).toMatchObject({ file: 'test.yaml', line: 13, column: 11 });
    expect(refs[1]?.hint).toBe('did you mean "z2"?');
    expect(refs[1]?.location).toMatchObject({ line: 16, column: 34 });
    expect(refs[3]?.hint).toBe('did you mean "cache"?');
  });

  it('does not flag a region that is only implied by zones', () => {
    const findings = lintYaml(`zones:\n  z1: { region: nowhere }\nservices:\n  s: { endpoints: [{ url: http://a:1, zone: z1 }, { url: http://b:1 }] }\n`);
    expect(byRule(findings, 'lint.unknown_reference')).toEqual([]);
  });

  it('flags a service that depends on itself', () => {
    const [self] = byRule(lintYaml(BASE + SERVICES), 'lint.self_dependency');
    expect(self).toMatchObject({ severity: 'error', path: ['services', 'api', 'depends_on', 1] });
  });

  it('checks backup copies and sources against their database kind', () => {
    const findings = lintYaml(BASE + SERVICES + `
backups:
  repositories:
    local: { path: /b }
  policies:
    p1: { source: { postgres: cache }, schedule: hourly, copies: [lokal] }
    p2: { source: { redis: nope }, schedule: hourly, copies: [local] }
`);
    const refs = byRule(findings, 'lint.unknown_reference').filter((f) => f.path[0] === 'backups');
    expect(refs.map((f) => f.path.join('.'))).toEqual(['backups.policies.p1.copies.0', 'backups.policies.p2.source.redis']);
    expect(refs[0]?.hint).toBe('did you mean "local"?');
    const [mismatch] = byRule(findings, 'lint.source_kind_mismatch');
    expect(mismatch).toMatchObject({ severity: 'error', path: ['backups', 'policies', 'p1', 'source', 'postgres'] });
    expect(mismatch?.hint).toBe('write source: { redis: cache }');
  });

  it('checks alerting, templates, status page and maintenance windows', () => {
    const findings = lintYaml(`
services:
  api: { endpoints: [{ url: http://a:1 }] }
alerting:
  channels: { oncall: { slack: { webhook_url: https://hooks.example.com/x } } }
  escalation_policies:
    critical: [{ notify: oncal }, { notify: [oncall, boss] }]
  rules:
    down: { when: service_down, escalation: critcal, services: [apy], template: incident }
communication_templates:
  incident_note: { subject: s, body: b, channels: [pager] }
status_page: { title: T, services: [api, web], groups: { Core: [api, apii] } }
maintenance_windows:
  - { name: w, services: [db], start: "2026-01-01T00:00:00Z", duration: 1h }
`);
    expect(byRule(findings, 'lint.unknown_reference').map((f) => f.path.join('.'))).toEqual([
      'alerting.rules.down.escalation',
      'alerting.rules.down.services.0',
      'alerting.rules.down.template',
      'communication_templates.incident_note.channels.0',
      'status_page.services.1',
      'status_page.groups.Core.1',
      'maintenance_windows.0.services.0',
    ]);
    // Escalation targets may also be people, schedules or roles: lint/alerting.ts checks them.
    expect(byRule(findings, 'lint.unreachable_escalation_target').map((f) => f.path.join('.'))).toEqual([
      'alerting.escalation_policies.critical.0.notify',
      'alerting.escalation_policies.critical.1.notify.1',
    ]);
  });

  it('checks that each notification_channels entry names a channel or the type of exactly one', () => {
    const findings = lintYaml(`
alerting:
  channels:
    a: { slack: { webhook_url: https://hooks.example.com/a } }
    b: { slack: { webhook_url: https://hooks.example.com/b } }
    pager: { pagerduty: { routing_key: k } }
  notification_channels:
    - pagerduty: "critical alerts"
    - slack: "warning alerts"
    - a: "info alerts"
    - email: "daily summary reports"
`);
    expect(byRule(findings, 'lint.unknown_reference').map((f) => f.path.join('.'))).toEqual([
      'alerting.notification_channels.1.slack',
      'alerting.notification_channels.3.email',
    ]);
  });
});

describe('dr_testing', () => {
  const drills = (body: string): string => BASE + `
services:
  api: { endpoints: [{ url: http://a:1, zone: z1 }] }
databases:
  db: { postgres: { members: [{ name: a, port: 5432 }] } }
backups:
  repositories: { s3r: { s3: { bucket: bucket } } }
  policies: { nightly: { source: { postgres: db }, schedule: daily, copies: [s3r] } }
dr_testing:
${body}`;

  it('accepts drills named after their type and drills with a type', () => {
    const findings = lintYaml(drills(`  backup_restoration: { schedule: monthly, policy: nightly }
  weekly-failover: { type: database_failover, schedule: weekly, database: db }
  zone_failure: { schedule: monthly, service: api, zone: z2 }
`));
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it("accepts seed 000's vocabulary: frequency, the seeds' drill names and their free text", () => {
    const findings = lintYaml(drills(`  backup_restoration: { frequency: monthly, scope: "database and critical data", validation: "data integrity and completeness", rollback: "automatic rollback after testing" }
  failover_testing: { frequency: quarterly, scope: "application services failover", duration: "4 hours maximum" }
  full_dr_exercise: { frequency: annually, stakeholders: "all business units" }
  restore-check: { type: backup_restoration, frequency: semi-annually, policy: nightly, tier: nosuch, validate: { sql: ["SELECT 1"], min_rows: { orders: 1 } } }
`));
    expect(findings.filter((f) => f.severity === 'error').map((f) => f.message)).toEqual([expect.stringContaining(`"nosuch"`)]);
  });

  it('requires a type when the name is not one, and the target of each type', () => {
    const findings = lintYaml(drills(`  nightly-restore: { schedule: daily, policy: nightly }
  backup_restoration: { schedule: monthly }
  zone_failure: { schedule: monthly, service: api }
  db-drill: { type: database_failover, schedule: weekly, database: dbb }
`));
    const [untyped] = byRule(findings, 'lint.unknown_drill_type');
    expect(untyped).toMatchObject({ severity: 'error', path: ['dr_testing', 'nightly-restore'] });
    expect(untyped?.hint).toBe('add type: backup_restoration to the drill, or rename it to its type');
    expect(byRule(findings, 'lint.drill_missing_target').map((f) => f.message)).toEqual([
      'zone_failure drill "zone_failure" does not say which zone to test, so it cannot run',
    ]);
    const [db] = byRule(findings, 'lint.unknown_reference');
    expect(db).toMatchObject({ path: ['dr_testing', 'db-drill', 'database'], hint: 'did you mean "db"?' });
  });

  it('checks that a drill\'s maintenance_window is declared', () => {
    const findings = lintYaml(drills(`  backup_restoration: { schedule: monthly, maintenance_window: sunday-nigt }
`) + `maintenance_windows:
  - { name: sunday-night, services: [api], schedule: "weekly on sunday at 02:00", duration: 2h }
`);
    const refs = byRule(findings, 'lint.unknown_reference');
    expect(refs).toHaveLength(1);
    expect(refs[0]).toMatchObject({ severity: 'error', path: ['dr_testing', 'backup_restoration', 'maintenance_window'], hint: 'did you mean "sunday-night"?' });
  });
});
