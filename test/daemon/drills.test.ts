import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runPolicy } from '../../src/backup/index.js';
import { RevertJournal } from '../../src/drills/journal.js';
import { configFrom, writeFiles } from '../../src/drills/testing/world.js';
import { openSqliteStore } from '../../src/store/index.js';
import { createToken, Harness, startDaemon, waitFor, withTimeout } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

interface Listing {
  runs: Array<{ id: string; drill: string; outcome: string }>;
  trends: Array<{ drill: string; runs: number }>;
  schedule: Array<{ drill: string; next_run: string | null; last_skip: { reason: string } | null }>;
}

/** Every five seconds: a six-field cron has seconds. */
function yaml(dir: string): string {
  return `name: drills-test
sla_tiers:
  gold: { availability: 99.9%, rto: 1h, rpo: 1d }
backups:
  repositories:
    local: { path: ${join(dir, 'repo')}, password: drill-test-password }
  policies:
    files: { source: { paths: [${join(dir, 'src')}] }, schedule: daily, copies: [local] }
dr_testing:
  restore: { type: backup_restoration, schedule: "*/5 * * * * *", policy: files, tier: gold }
`;
}

describe('bulwark up: scheduled drills', () => {
  it('reverts a crashed drill at start, skips a slot during a critical incident with the reason, runs the next in a child process, and serves the reports', async () => {
    const dir = await h.tempDir();
    await writeFiles(join(dir, 'src'));
    const text = yaml(dir);
    expect((await runPolicy(configFrom(text), 'files')).ok).toBe(true);
    const dataDir = join(dir, 'data');
    // What a daemon killed mid-drill leaves: a journal naming a sandbox; and a critical incident open.
    const drillsDir = join(dataDir, 'drills');
    const sandbox = join(drillsDir, 'sandboxes', 'crashed-files');
    await mkdir(sandbox, { recursive: true });
    const journal = RevertJournal.in(drillsDir);
    await journal.begin({ id: '00000000-0000-4000-8000-00000000dead', drill: 'restore', type: 'backup_restoration', startedAt: Date.now() - 60_000 });
    await journal.add({ kind: 'dir', path: sandbox });
    const store = await openSqliteStore({ path: join(dataDir, 'bulwark.db') });
    await store.migrate();
    const { incident } = await store.alerting.openIncident(
      { key: 'db:down', rule: 'db', severity: 'critical', title: 'main-db is down', policy: null, labels: {}, alerts: ['database/main-db'], openedAt: Date.now(), nextAt: null, reminderAt: null },
      { kind: 'opened', actor: 'test', at: Date.now(), data: {} }, () => []);

    try {
      const d = await startDaemon(h, { yaml: text, dataDir });
      expect(existsSync(sandbox)).toBe(false);
      expect((await store.drillRuns.get('00000000-0000-4000-8000-00000000dead'))?.outcome).toBe('aborted');
      const token = await createToken(h, d.dataDir, 'ops');
      const get = async (path: string): Promise<Response> => fetch(`${d.base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
      const listing = async (): Promise<Listing> => (await (await get('/drills')).json()) as Listing;

      const skipped = await waitFor(async () => (await listing()).schedule.find((s) => s.last_skip !== null), 'a skipped slot', 60_000);
      expect(skipped.last_skip!.reason).toMatch(/1 critical incident\(s\) open \(#\d+ main-db is down\); no drill runs during one/);
      const events = await store.recentEvents({ limit: 50, subsystem: 'drills' });
      expect(events.some((e) => e.kind === 'drill.skipped' && e.subject === 'drill/restore')).toBe(true);
      expect((await listing()).runs.filter((r) => r.outcome !== 'aborted')).toEqual([]);

      await store.alerting.updateIncident(incident.id, { state: 'resolved', resolvedAt: Date.now(), resolvedBy: 'test' }, [], []);
      const passed = await waitFor(async () => (await listing()).runs.find((r) => r.outcome === 'passed'), 'a scheduled drill that passed', 180_000, 500);
      expect(passed.drill).toBe('restore');
      const lines = d.proc.stderr().split('\n').filter((l) => l.includes('drill started in a child process'));
      expect(lines.length).toBeGreaterThan(0);
      expect((await listing()).trends.find((t) => t.drill === 'restore')!.runs).toBeGreaterThanOrEqual(2);

      const json = await get(`/drills/${passed.id}`);
      expect(json.status).toBe(200);
      expect(((await json.json()) as { outcome: string; policies: unknown[] })).toMatchObject({ outcome: 'passed', policies: [{ policy: 'files', passed: true }] });
      const html = await get(`/drills/${passed.id.slice(0, 8)}?format=html`);
      expect(html.headers.get('content-type')).toMatch(/text\/html/);
      const page = await html.text();
      expect(page).toContain('<svg');
      expect(page).not.toMatch(/<script|<link/);
      expect(await (await get(`/drills/${passed.id}?format=markdown`)).text()).toContain('# Drill restore: PASSED');
      expect((await get('/drills/abc?format=pdf')).status).toBe(400);
      expect((await get('/drills/ffffffff')).status).toBe(404);
      expect((await fetch(`${d.base}/api/v1/drills`)).status).toBe(401);

      d.proc.child.kill('SIGTERM');
      expect((await withTimeout(d.proc.exited, 60_000, 'daemon exit')).code).toBe(0);
    } finally {
      await store.close();
    }
  }, 400_000);
});
