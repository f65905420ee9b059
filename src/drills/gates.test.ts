import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type Store } from '../store/index.js';
import { gate, type GateFacts } from './gates.js';
import { processStartTicks } from './proc.js';
import { configFrom } from './testing/world.js';

const YAML = `
maintenance_windows:
  - { name: sunday-night, services: [api], schedule: "weekly on sunday at 02:00", duration: 2h }
  - { name: once, services: [api], start: "2026-01-01T00:00:00Z", duration: 1h }
services:
  api: { endpoints: [{ url: "http://127.0.0.1:1" }] }
dr_testing:
  anytime: { type: backup_restoration, frequency: monthly }
  windowed: { type: backup_restoration, frequency: monthly, maintenance_window: sunday-night }
  past: { type: backup_restoration, frequency: monthly, maintenance_window: once }
`;
const SUNDAY_3AM = Date.UTC(2026, 2, 8, 3);
const MONDAY_NOON = Date.UTC(2026, 2, 9, 12);

describe('when a scheduled drill may start', () => {
  let dir: string;
  let store: Store;
  let facts: GateFacts;
  const config = configFrom(YAML);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-gates-'));
    await mkdir(join(dir, 'drills'));
    store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
    await store.migrate();
    facts = { config, drillsDir: join(dir, 'drills'), openIncidents: () => store.alerting.openIncidents(), running: undefined, now: MONDAY_NOON };
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for the next opening of its maintenance window, goes inside it, and skips a window that never opens again', async () => {
    expect(await gate('anytime', config.dr_testing.anytime!, facts)).toEqual({ go: true });
    expect(await gate('windowed', config.dr_testing.windowed!, facts)).toEqual({ go: false, window: 'sunday-night', waitUntil: Date.UTC(2026, 2, 15, 2) });
    expect(await gate('windowed', config.dr_testing.windowed!, { ...facts, now: SUNDAY_3AM })).toEqual({ go: true });
    expect(await gate('past', config.dr_testing.past!, facts)).toEqual({ go: false, skip: 'outside maintenance window "once", which never opens again' });
  });

  it('skips while a drill runs here or in another process (the lock), and while a critical incident is open', async () => {
    expect(await gate('anytime', config.dr_testing.anytime!, { ...facts, running: 'windowed' })).toEqual({ go: false, skip: 'drill "windowed" is running; drills run one at a time' });
    const lock = join(dir, 'drills', 'lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, startTicks: await processStartTicks(process.pid), drill: 'cli-drill', since: '2026-03-09T12:00:00Z' }));
    expect(await gate('anytime', config.dr_testing.anytime!, facts)).toMatchObject({ go: false, skip: expect.stringMatching(/^drill "cli-drill" is running \(pid \d+/) });
    await rm(lock);

    const open = (key: string, severity: 'critical' | 'warning') => store.alerting.openIncident(
      { key, rule: key, severity, title: `${key} title`, policy: null, labels: {}, alerts: [], openedAt: MONDAY_NOON, nextAt: null, reminderAt: null },
      { kind: 'opened', actor: 'test', at: MONDAY_NOON, data: {} }, () => []);
    await open('warn', 'warning');
    expect(await gate('anytime', config.dr_testing.anytime!, facts)).toEqual({ go: true });
    const { incident } = await open('crit', 'critical');
    expect(await gate('anytime', config.dr_testing.anytime!, facts)).toEqual({ go: false, skip: `1 critical incident(s) open (#${incident.id} crit title); no drill runs during one` });
  });
});
