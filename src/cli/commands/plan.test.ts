import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectiveRules } from '../../alerting/index.js';
import { configSchema } from '../../config/index.js';
import { openSqliteStore } from '../../store/index.js';
import { registerPlan, renderAlertRules } from './plan.js';

const CONFIG = `
coordination:
  etcd: { endpoints: [http://127.0.0.1:2379] }
sla_tiers:
  standard: { availability: 99.9%, rto: 4h, rpo: 1h }
zones:
  a: { region: r1 }
  b: { region: r1 }
regions:
  r1: {}
services:
  api:
    tier: standard
    endpoints:
      - { url: http://127.0.0.1:9001, zone: a }
      - { url: http://127.0.0.1:9002, zone: b }
databases:
  main-db:
    tier: standard
    postgres:
      members:
        - { name: pg-a, port: 15432, zone: a }
        - { name: pg-b, port: 15433, zone: b }
      synchronous: true
backups:
  repositories:
    local: { path: /var/backups/bulwark }
  policies:
    main-db:
      source: { postgres: main-db }
      schedule: every 30 minutes
      copies: [local]
`;

let dir: string;
let file: string;
let out: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-plan-'));
  file = join(dir, 'bulwark.yaml');
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function plan(text: string, ...args: string[]): Promise<string> {
  await writeFile(file, text);
  const program = new Command().exitOverride();
  registerPlan(program);
  await program.parseAsync(['node', 'bulwark', 'plan', '-c', file, '--no-color', ...args]);
  return out;
}

describe('bulwark plan: the alert rules in effect', () => {
  it('lists the default rules in text, after the availability plan', async () => {
    const text = await plan(CONFIG);
    const section = text.slice(text.indexOf('Alert rules'));
    expect(text.indexOf('COMPONENT')).toBeLessThan(text.indexOf('Alert rules'));
    expect(section.split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'Alert rules (defaults from the tiers and the topology; alerting.rules replaces them):',
      'RULE WHEN SEVERITY FOR ESCALATION SUBJECTS THRESHOLD',
      'api:service_down service_down critical - - api -',
      'api:error_budget_burn:fast error_budget_burn critical - - api burn ≥14.4x over 1h and 5m or burn ≥6x over 6h and 30m; target 99.9%',
      'api:error_budget_burn:slow error_budget_burn warning - - api burn ≥1x over 3d and 6h; target 99.9%',
      'api:endpoint_down endpoint_down warning - - api -',
      'main-db:database_down database_down critical - - main-db -',
      'main-db:error_budget_burn:fast error_budget_burn critical - - main-db burn ≥14.4x over 1h and 5m or burn ≥6x over 6h and 30m; target 99.9%',
      'main-db:error_budget_burn:slow error_budget_burn warning - - main-db burn ≥1x over 3d and 6h; target 99.9%',
      'main-db:endpoint_down endpoint_down warning - - main-db -',
      'zone_down zone_down critical - - zone a, zone b -',
      'region_down region_down critical - - region r1 -',
      'main-db:failover failover warning - - main-db -',
      'main-db:no_sync_standby no_sync_standby critical 5s - main-db -',
      'main-db:replication_lag replication_lag warning 1m - main-db lag ≤ 1048576 bytes',
      'main-db:backup_failed backup_failed warning - - backup main-db -',
      'main-db:backup_stale backup_stale critical - - backup main-db newest ≤ 1h old',
      '',
    ]);
  });

  it('lists them under "alerts" with --json', async () => {
    const json = JSON.parse(await plan(CONFIG, '--json')) as { alerts: Array<{ name: string; origin: string; severity: string }>; components: unknown[] };
    expect(json.components.length).toBeGreaterThan(0);
    expect(json.alerts).toHaveLength(15);
    expect(json.alerts[0]).toMatchObject({ name: 'api:service_down', when: 'service_down', severity: 'critical', origin: 'default', subjects: { services: ['api'] } });
    expect(json.alerts.every((a) => a.origin === 'default')).toBe(true);
  });

  it('shows configured rules, with their escalation, instead of the defaults', async () => {
    const configured = `${CONFIG}
alerting:
  channels:
    oncall: { webhook: { url: https://hooks.example.com/oncall } }
  escalation_policies:
    critical: [{ notify: oncall }]
  rules:
    api-down: { when: service_down, services: [api], for: 1m, severity: critical }
`;
    const text = await plan(configured);
    const section = text.slice(text.indexOf('Alert rules'));
    expect(section.split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'Alert rules (alerting.rules):',
      'RULE WHEN SEVERITY FOR ESCALATION SUBJECTS THRESHOLD',
      'api-down service_down critical 1m critical api -',
      '',
    ]);
  });
});

describe('renderAlertRules', () => {
  it('says so when the configuration asks for no rules', () => {
    const config = configSchema.parse({ alerting: { rules: {} } });
    expect(renderAlertRules(effectiveRules(config), config)).toBe('Alert rules (alerting.rules):\n  none\n');
  });
});

describe('bulwark plan: measured beside modelled', () => {
  const DRILLS = `${CONFIG}dr_testing:\n  backup_restoration: { frequency: monthly, policy: main-db }\n`;

  it('says no drill ran yet when there is no store, and creates none', async () => {
    const text = await plan(DRILLS, '--data-dir', join(dir, 'data'));
    expect(text).toContain('Measured by drills');
    expect(text).toContain('no drill run recorded yet');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('shows the newest graded drill\'s RTO and RPO beside the modelled recovery and the backup schedule\'s gap', async () => {
    const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
    await store.migrate();
    const policy = { policy: 'main-db', source: 'postgres', repository: 'local', phasesMs: {}, problems: [], passed: false, rto: { measuredMs: 95_000, targetMs: 14_400_000, passed: true, marginMs: 1 }, rpo: { measuredMs: 7_200_000, targetMs: 3_600_000, passed: false, marginMs: -1 } };
    const report = { id: '00000000-0000-4000-8000-000000000001', drill: 'backup_restoration', type: 'backup_restoration', outcome: 'failed', startedAt: Date.UTC(2026, 2, 1, 2), finishedAt: Date.UTC(2026, 2, 1, 2, 2), target: { tier: 'standard' }, notes: {}, timeline: [], policies: [policy], issues: [], recommendations: [] };
    await store.drillRuns.record({ id: report.id, drill: report.drill, type: report.type, startedAt: report.startedAt, finishedAt: report.finishedAt, outcome: 'failed', measured: {}, report });
    await store.drillRuns.record({ ...report, id: '00000000-0000-4000-8000-000000000002', startedAt: report.startedAt + 1000, outcome: 'aborted', measured: {}, report: { ...report, policies: [] } });
    await store.close();

    const text = await plan(DRILLS, '--data-dir', dir);
    const section = text.slice(text.indexOf('Measured by drills'), text.indexOf('Alert rules'));
    const row = section.split('\n').find((l) => l.startsWith('backup_restoration'))!.replace(/\s+/g, ' ');
    expect(row).toMatch(/^backup_restoration main-db \(main-db\) standard \S+ 1.58m \/ 4h ok 30m 2h \/ 1h MISSED 2026-03-01 02:00 failed$/);
    out = '';
    const json = JSON.parse(await plan(DRILLS, '--data-dir', dir, '--json')) as { measured: Array<{ rto: { measuredMs: number; modelledMs: number | null }; rpo: { modelledMs: number } }> };
    expect(json.measured).toHaveLength(1);
    expect(json.measured[0]!.rto.measuredMs).toBe(95_000);
    expect(json.measured[0]!.rpo.modelledMs).toBe(30 * 60_000);
  });
});
