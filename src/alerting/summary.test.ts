import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfigText, type BulwarkConfig } from '../config/index.js';
import { openSqliteStore, type BackupRunRecord, type Store } from '../store/index.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { DailySummary, lastSlot, nextSlotAt, summarySchedule } from './summary.js';
import type { OutgoingMessage } from './types.js';

const YAML = `
name: acme
sla_tiers:
  gold: { availability: 99.9%, rto: 1h, rpo: 1h }
services:
  api:
    tier: gold
    endpoints: [{ url: "http://127.0.0.1:9001" }]
databases:
  main-db:
    tier: gold
    postgres:
      members: [{ name: pg-a, host: 127.0.0.1, port: 15432 }]
backups:
  repositories:
    local: { path: /var/backups/x, password: secret }
  policies:
    main-db: { source: { postgres: main-db }, schedule: every 30 minutes, copies: [local] }
    files: { source: { paths: [/etc] }, schedule: daily, copies: [local] }
alerting:
  channels:
    email:
      email:
        smtp: { host: smtp.example.com, from: alerts@example.com }
        to: [eng@example.com]
    chat: { slack: { webhook_url: "https://hooks.slack.com/services/x" } }
  notification_channels:
    - slack: "warning alerts"
    - email: "daily summary reports"
  daily_summary: { at: "08:00", time_zone: Europe/Berlin }
`;

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** 2026-07-01 09:30 in Berlin (CEST, UTC+2): the 08:00 slot of that day has passed. */
const NOW = Date.parse('2026-07-01T07:30:00Z');

function config(yaml = YAML): BulwarkConfig {
  const parsed = parseConfigText(yaml, 't.yaml', { env: {} });
  if (!parsed.config) throw new Error(JSON.stringify(parsed.findings));
  return parsed.config;
}

describe('the daily summary schedule', () => {
  it('takes the channels from notification_channels ("daily summary reports") and the time from daily_summary', () => {
    expect(summarySchedule(config().alerting)).toEqual({ at: '08:00', timeZone: 'Europe/Berlin', channels: ['email'] });
    const plain = config(YAML.replace(/ {2}daily_summary:.*\n/, ''));
    expect(summarySchedule(plain.alerting)).toEqual({ at: '08:00', timeZone: 'UTC', channels: ['email'] });
    const none = config(YAML.replace(/ {2}daily_summary:.*\n/, '').replace('    - email: "daily summary reports"\n', ''));
    expect(summarySchedule(none.alerting)).toBeNull();
  });

  it('finds the latest slot in local time and its local date, across a DST change', () => {
    expect(lastSlot(NOW, '08:00', 'Europe/Berlin')).toEqual({ at: Date.parse('2026-07-01T06:00:00Z'), day: '2026-07-01' });
    expect(lastSlot(Date.parse('2026-07-01T05:59:00Z'), '08:00', 'Europe/Berlin').day).toBe('2026-06-30');
    expect(nextSlotAt(NOW, '08:00', 'Europe/Berlin')).toBe(Date.parse('2026-07-02T06:00:00Z'));
    // Clocks go back on 2026-10-25: 08:00 is 07:00 UTC from then on.
    expect(nextSlotAt(Date.parse('2026-10-24T07:00:00Z'), '08:00', 'Europe/Berlin')).toBe(Date.parse('2026-10-25T07:00:00Z'));
  });
});

function run(policy: string, o: Partial<BackupRunRecord>): BackupRunRecord {
  return {
    id: `${policy}-${o.startedAt}`, policy, kind: 'backup', startedAt: 0, finishedAt: 0, durationMs: 1000, ok: true, partial: false, repository: 'local',
    snapshotId: 'abc', bytes: 1, addedBytes: 1, storedBytes: 1, files: 1, error: null, copies: [], ...o,
  };
}

describe('DailySummary with a real SQLite store', () => {
  let dir: string;
  let store: Store;
  let registry: Registry;
  let now = NOW;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-summary-'));
    store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
    await store.migrate();
    registry = new Registry();
    now = NOW;
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function summary(): { daily: DailySummary; queued: ReturnType<typeof vi.fn> } {
    const queued = vi.fn();
    const cfg = config();
    const daily = new DailySummary({ config: () => cfg, store, registry, log: memoryLogger().log, now: () => now, queued });
    return { daily, queued };
  }

  async function incident(key: string, openedAt: number, patch: { ackAfter?: number; resolveAfter?: number } = {}): Promise<void> {
    const { incident: created } = await store.alerting.openIncident(
      { key, rule: 'api:service_down', severity: 'critical', title: `${key} is down`, policy: null, labels: {}, alerts: ['service/api'], openedAt, nextAt: null, reminderAt: null },
      { kind: 'opened', actor: 'bulwark', at: openedAt }, () => [],
    );
    const ack = patch.ackAfter === undefined ? {} : { state: 'acknowledged' as const, acknowledgedAt: openedAt + patch.ackAfter, acknowledgedBy: 'alice' };
    const resolved = patch.resolveAfter === undefined ? {} : { state: 'resolved' as const, resolvedAt: openedAt + patch.resolveAfter, resolvedBy: 'bulwark' };
    if (patch.ackAfter !== undefined || patch.resolveAfter !== undefined) await store.alerting.updateIncident(created.id, { ...ack, ...resolved }, [], []);
  }

  it('queues one summary per channel, with incidents, backups against the RPO and the SLO gauges, once per day across restarts', async () => {
    await incident('old', NOW - 3 * 86_400_000, { resolveAfter: 30 * MINUTE });
    await incident('db', NOW - 5 * HOUR, { ackAfter: 4 * MINUTE, resolveAfter: 62 * MINUTE });
    await incident('api', NOW - 20 * MINUTE);
    await store.recordBackupRun(run('main-db', { startedAt: NOW - 3 * HOUR, finishedAt: NOW - 3 * HOUR + 1000 }));
    await store.recordBackupRun(run('main-db', { startedAt: NOW - 30 * MINUTE, finishedAt: NOW - 29 * MINUTE, ok: false, snapshotId: null, error: 'disk full' }));
    const availability = new Gauge({ name: 'bulwark_service_availability_ratio', help: 'h', labelNames: ['kind', 'name', 'window'], registers: [registry] });
    availability.set({ kind: 'service', name: 'api', window: '24h' }, 0.99);
    availability.set({ kind: 'service', name: 'api', window: '30d' }, 0.9995);
    new Gauge({ name: 'bulwark_error_budget_remaining_ratio', help: 'h', labelNames: ['kind', 'name', 'window'], registers: [registry] })
      .set({ kind: 'service', name: 'api', window: '30d' }, 0.5);

    const first = summary();
    expect(await first.daily.queueDue()).toBe(1);
    expect(first.queued).toHaveBeenCalledTimes(1);
    const rows = await store.alerting.listOutbox({ limit: 10 });
    expect(rows.map((r) => [r.idempotencyKey, r.channel, r.kind, r.incidentId])).toEqual([['summary-2026-07-01.email', 'email', 'summary', null]]);
    const message = rows[0]!.message as OutgoingMessage;
    expect(message.subject).toBe('Daily summary for acme, 2026-07-01');
    expect(message.text).toBe([
      'Incidents in the last 24 hours: 2 opened, 1 resolved',
      '  median time to acknowledge: 4 minutes; to resolve: 1 hour 2 minutes',
      '  #3 [critical] api is down: opened 2026-07-01 07:10 UTC, still triggered',
      '  #2 [critical] db is down: opened 2026-07-01 02:30 UTC, acknowledged after 4 minutes by alice, resolved after 1 hour 2 minutes',
      '',
      'Open incidents: 1',
      '  #3 [critical] TRIGGERED api is down, open for 20 minutes',
      '',
      'Backups',
      '  main-db: last good backup 3 hours ago; tier RPO 1 hour: EXCEEDED; last run failed at 2026-07-01 07:01 UTC: disk full',
      '  files: no successful backup yet',
      '',
      'Availability against the tiers',
      '  api (gold 99.900%): 24h 99.000%, 30d 99.950%, error budget left (30d) 50.0%',
      '',
    ].join('\n'));
    expect(message.html).toContain('Incidents in the last 24 hours: 2 opened, 1 resolved<br>');

    expect(await first.daily.queueDue()).toBe(0);
    now = NOW + 10 * HOUR;
    const restarted = summary();
    expect(await restarted.daily.queueDue()).toBe(0);
    expect(restarted.queued).not.toHaveBeenCalled();
    expect(await store.alerting.listOutbox({ limit: 10 })).toHaveLength(1);

    now = Date.parse('2026-07-02T06:00:00Z');
    expect(await restarted.daily.queueDue()).toBe(1);
    expect((await store.alerting.listOutbox({ limit: 10 }))[0]!.idempotencyKey).toBe('summary-2026-07-02.email');
  });
});
