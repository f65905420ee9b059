import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackupScheduler, type BackupScheduler } from '../../backup/index.js';
import { controlledExecutor, memoryLogger, MemoryRunStore, record, testConfig } from '../../testing/backup-scheduler.js';
import { errorBody, statusOf } from '../errors.js';
import { backupRoutes } from './backups.js';

const schedulers: BackupScheduler[] = [];
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop(AbortSignal.abort());
});

async function setup() {
  const store = new MemoryRunStore();
  const now = Date.now();
  await store.recordBackupRun(record('db', now - 3_600_000, { copies: [{ repository: 'offsite', ok: true, snapshotId: 'c1', error: null, durationMs: 10 }] }));
  await store.recordBackupRun(record('db', now - 60_000, { ok: false, snapshotId: null, error: 'connection refused' }));
  const { executor, calls } = controlledExecutor();
  const config = testConfig(`    db: { source: { postgres: main }, schedule: "daily at 02:00", copies: [local, offsite] }
`);
  const scheduler = await createBackupScheduler({ config, store, registry: new Registry(), log: memoryLogger().log, executors: { backup: executor } });
  schedulers.push(scheduler);
  await scheduler.start();
  // Mounted as the API mounts it: errors mapped in the one place that maps them.
  const app = new Hono();
  app.route('/', backupRoutes(scheduler));
  app.onError((err, c) => c.json(errorBody(err), statusOf(err)));
  return { app, calls, scheduler };
}

describe('backup routes', () => {
  it('lists policies with their last run, last success and age against the RPO', async () => {
    const { app } = await setup();
    const res = await app.request('/backups');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { policies: Array<Record<string, unknown>> };
    expect(body.policies).toHaveLength(1);
    const db = body.policies[0]!;
    expect(db).toMatchObject({
      policy: 'db', source: { kind: 'postgres', name: 'main' }, schedule: { text: 'daily at 02:00', cron: '0 2 * * *', timezone: 'UTC' },
      running: [], rpo_ms: 7_200_000, within_rpo: true,
      last_run: { ok: false, error: 'connection refused', snapshot_id: null },
      last_success: { ok: true, snapshot_id: 'abcdef0123456789', bytes: 2048 },
    });
    expect(db.age_ms).toBeGreaterThanOrEqual(3_600_000);
    expect(typeof db.next_run).toBe('string');
    expect((db.copies as Array<Record<string, unknown>>).map((c) => [c.repository, c.primary, typeof c.last_success])).toEqual([['local', true, 'string'], ['offsite', false, 'string']]);
  });

  it('gives the history of a policy, newest first, bounded by limit', async () => {
    const { app } = await setup();
    const runs = (await (await app.request('/backups/db/runs?limit=1')).json()) as { runs: Array<{ ok: boolean }> };
    expect(runs.runs).toEqual([expect.objectContaining({ ok: false, error: 'connection refused' })]);
    expect((await app.request('/backups/db/runs?limit=zero')).status).toBe(400);
    const missing = await app.request('/backups/nope/runs');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('starts a run now: 202 with its id, 409 while it goes, 404 for an unknown policy', async () => {
    const { app, calls, scheduler } = await setup();
    const started = await app.request('/backups/db/run', { method: 'POST' });
    expect(started.status).toBe(202);
    const body = (await started.json()) as { run_id: string; kind: string };
    expect(body).toMatchObject({ kind: 'backup', run_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    const again = await app.request('/backups/db/run', { method: 'POST' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain(body.run_id);
    expect((await app.request('/backups/nope/run', { method: 'POST' })).status).toBe(404);
    expect((await app.request('/backups/db/run?kind=verify', { method: 'POST' })).status).toBe(400);
    expect((await app.request('/backups/db/run?kind=bogus', { method: 'POST' })).status).toBe(400);

    await new Promise((resolve) => setImmediate(resolve));
    calls[0]?.release();
    await scheduler.idle();
    const runs = (await (await app.request('/backups/db/runs')).json()) as { runs: Array<{ id: string }> };
    expect(runs.runs[0]?.id).toBe(body.run_id);
  });
});
