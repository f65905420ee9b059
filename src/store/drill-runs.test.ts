import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import { openPostgresStore, openSqliteStore, type DrillRunRecord, type Store } from './index.js';
import { startPostgres, type PostgresServer } from '../testing/postgres-server.js';

const T0 = Date.UTC(2026, 11, 7, 10);
const run = (id: string, drill: string, startedAt: number, outcome: DrillRunRecord['outcome']): DrillRunRecord => ({
  id, drill, type: 'backup_restoration', startedAt, finishedAt: startedAt + 5_000, outcome,
  measured: { rtoMs: 4_200, rpoMs: 60_000 }, report: { timeline: [{ step: 'restore', ms: 4_000 }] },
});

function suite(name: string, open: () => Promise<Store>): void {
  describe(`drill runs (${name})`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
      await store.migrate();
    });
    afterAll(() => store.close());

    it('records runs, lists them newest first, finds one by id prefix', async () => {
      await store.drillRuns.record(run('0a1b2c3d-0000-4000-8000-000000000001', 'monthly', T0, 'passed'));
      await store.drillRuns.record(run('0a1b2c3d-0000-4000-8000-000000000002', 'monthly', T0 + 1000, 'aborted'));
      await store.drillRuns.record(run('ffff2c3d-0000-4000-8000-000000000003', 'other', T0 + 2000, 'failed'));
      expect((await store.drillRuns.list({ limit: 10 })).map((r) => r.outcome)).toEqual(['failed', 'aborted', 'passed']);
      const monthly = await store.drillRuns.list({ drill: 'monthly', limit: 10 });
      expect(monthly.map((r) => r.id.slice(-1))).toEqual(['2', '1']);
      expect(monthly[1]).toEqual(run('0a1b2c3d-0000-4000-8000-000000000001', 'monthly', T0, 'passed'));
      expect((await store.drillRuns.get('ffff'))?.drill).toBe('other');
      expect(await store.drillRuns.get('0a1b')).toBeNull();
      expect(await store.drillRuns.get('%')).toBeNull();
      const err = await store.drillRuns.record(run('ffff2c3d-0000-4000-8000-000000000003', 'x', T0, 'passed')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BulwarkError);
    });
  });
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
suite('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-drill-runs-'));
  dirs.push(dir);
  return openSqliteStore({ path: join(dir, 'bulwark.db') });
});

let server: PostgresServer | undefined;
afterAll(async () => {
  await server?.stop();
});
suite('postgres', async () => {
  server = await startPostgres();
  return openPostgresStore({ url: server.url });
});
