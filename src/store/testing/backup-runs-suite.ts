import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import type { BackupRunRecord, Store } from '../store.js';

/** 2024-01-02T00:00:00Z */
const T0 = Date.UTC(2024, 0, 2);
const H = 3_600_000;

function run(id: string, policy: string, startedAt: number, overrides: Partial<BackupRunRecord> = {}): BackupRunRecord {
  return {
    id, policy, kind: 'backup', startedAt, finishedAt: startedAt + 1500, durationMs: 1500, ok: true, partial: false,
    repository: 'local', snapshotId: `snap-${id}`, bytes: 5_000_000_000, addedBytes: 1234, storedBytes: 999, files: 42,
    error: null, copies: [], ...overrides,
  };
}

/** Backup-run tests, run by `store.test.ts` against each backend after migrating. */
export function backupRunsSuite(current: () => Store): void {
  describe('backup runs', () => {
    it('records runs and reads them back newest first, with copies and nulls intact', async () => {
      const store = current();
      const copies = [
        { repository: 'offsite', ok: true, snapshotId: 'copy-1', error: null, durationMs: 300 },
        { repository: 's3', ok: false, snapshotId: null, error: 'connection refused', durationMs: 20 },
      ];
      await store.recordBackupRun(run('a1', 'files', T0, { copies }));
      await store.recordBackupRun(run('a2', 'files', T0 + H, { ok: false, snapshotId: null, bytes: null, addedBytes: null, storedBytes: null, files: null, error: 'disk full' }));
      await store.recordBackupRun(run('b1', 'db', T0 + 2 * H, { partial: true }));
      await store.recordBackupRun(run('v1', 'files', T0 + 3 * H, { kind: 'verify', snapshotId: null }));

      const all = await store.listBackupRuns({ limit: 10 });
      expect(all.map((r) => r.id)).toEqual(['v1', 'b1', 'a2', 'a1']);
      expect(all[3]).toEqual(run('a1', 'files', T0, { copies }));
      expect(all[2]).toMatchObject({ ok: false, snapshotId: null, bytes: null, files: null, error: 'disk full', copies: [] });
      expect(all[1]).toMatchObject({ partial: true, ok: true });

      expect((await store.listBackupRuns({ policy: 'files', limit: 10 })).map((r) => r.id)).toEqual(['v1', 'a2', 'a1']);
      expect((await store.listBackupRuns({ policy: 'files', kind: 'backup', limit: 1 })).map((r) => r.id)).toEqual(['a2']);
      expect(await store.listBackupRuns({ policy: 'nope', limit: 10 })).toEqual([]);
      expect(await store.listBackupRuns({ limit: 0 })).toHaveLength(1);
    });

    it('refuses a run id twice', async () => {
      const store = current();
      await store.recordBackupRun(run('dup', 'files', T0));
      const err = await store.recordBackupRun(run('dup', 'files', T0 + 1)).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(BulwarkError);
      expect((err as BulwarkError).code).toBe('BAD_REQUEST');
    });

    it('gives the latest and the latest successful run per policy and kind', async () => {
      const store = current();
      expect(await store.lastBackupRuns()).toEqual([]);
      await store.recordBackupRun(run('f1', 'files', T0));
      await store.recordBackupRun(run('f2', 'files', T0 + H, { partial: true }));
      await store.recordBackupRun(run('f3', 'files', T0 + 2 * H, { ok: false, error: 'boom' }));
      await store.recordBackupRun(run('d1', 'db', T0 + H, { ok: false, error: 'refused' }));
      await store.recordBackupRun(run('v1', 'files', T0 + 3 * H, { kind: 'verify' }));
      // Same start: the later finish wins.
      await store.recordBackupRun(run('v2', 'files', T0 + 3 * H, { kind: 'verify', finishedAt: T0 + 3 * H + 9000 }));

      const latest = await store.lastBackupRuns();
      expect(latest.map((l) => [l.policy, l.kind, l.last.id, l.lastSuccess?.id ?? null])).toEqual([
        ['db', 'backup', 'd1', null],
        ['files', 'backup', 'f3', 'f2'],
        ['files', 'verify', 'v2', 'v2'],
      ]);
      expect(latest[1]?.lastSuccess).toEqual(run('f2', 'files', T0 + H, { partial: true }));
    });
  });
}
