import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { BackupScheduler } from './scheduler.js';
import { controlledExecutor, memoryLogger, MemoryRunStore, record, testConfig } from '../../testing/backup-scheduler.js';

/** 30 s before a whole minute. */
const T0 = Date.UTC(2026, 2, 1, 10, 0, 30);
const MIN = 60_000;

const ONE = `    files: { source: { paths: [/tmp/files] }, schedule: "every 1 minutes", copies: [local, offsite] }
`;
const TWO = `${ONE}    db: { source: { postgres: main }, schedule: "every 1 minutes", copies: [local] }
`;

const schedulers: BackupScheduler[] = [];

function setup(policies: string, options: { store?: MemoryRunStore; instant?: boolean } = {}) {
  const store = options.store ?? new MemoryRunStore();
  const registry = new Registry();
  const { executor, calls } = controlledExecutor({ instant: options.instant });
  const { log, lines } = memoryLogger();
  const scheduler = new BackupScheduler({ config: testConfig(policies), store, registry, log, executors: { backup: executor, verify: executor } });
  schedulers.push(scheduler);
  return { scheduler, store, registry, calls, lines };
}

async function metric(registry: Registry, series: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(async () => {
  for (const s of schedulers.splice(0)) await s.stop(AbortSignal.abort());
  vi.useRealTimers();
});

describe('BackupScheduler', () => {
  it('runs a policy at its scheduled time, records the run and measures it', async () => {
    const { scheduler, store, registry, calls } = setup(ONE, { instant: true });
    await scheduler.start();
    expect(scheduler.status()[0]?.next_run).toBe('2026-03-01T10:01:00.000Z');
    await vi.advanceTimersByTimeAsync(29_000);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    await scheduler.idle();
    expect(calls.map((c) => c.ctx.policy)).toEqual(['files']);
    expect(store.runs).toHaveLength(1);
    expect(store.runs[0]).toMatchObject({ policy: 'files', ok: true, id: calls[0]?.ctx.id });
    expect(await metric(registry, 'bulwark_backup_last_success_timestamp_seconds{policy="files"}')).toBe((T0 + 30_000) / 1000);
    expect(await metric(registry, 'bulwark_backup_runs_total{policy="files",result="ok"}')).toBe(1);
    expect(await metric(registry, 'bulwark_backup_last_run_success{policy="files"}')).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await metric(registry, 'bulwark_backup_age_seconds{policy="files"}')).toBe(10);
    expect(scheduler.status()[0]).toMatchObject({ next_run: '2026-03-01T10:02:00.000Z', last_success: { snapshot_id: 'abcdef0123456789' }, rpo_ms: null, within_rpo: null });
  });

  it('skips a slot while the previous run of the policy still goes, and counts it', async () => {
    const { scheduler, registry, calls, lines } = setup(ONE);
    await scheduler.start();
    await vi.advanceTimersByTimeAsync(30_000 + 2 * MIN);
    expect(calls).toHaveLength(1);
    expect(await metric(registry, 'bulwark_backup_runs_skipped_total{policy="files",kind="backup"}')).toBe(2);
    expect(scheduler.status()[0]).toMatchObject({ skipped_runs: 2, running: [{ kind: 'backup', trigger: 'schedule' }] });
    expect(lines.filter((l) => l.msg === 'scheduled run skipped: the previous run is still going')).toHaveLength(2);
    calls[0]?.release();
    await scheduler.idle();
    await vi.advanceTimersByTimeAsync(MIN);
    expect(calls).toHaveLength(2);
  });

  it('runs one backup at a time across policies; the next waits its turn', async () => {
    const { scheduler, calls } = setup(TWO);
    await scheduler.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls.map((c) => c.ctx.policy)).toEqual(['files']);
    const waiting = scheduler.status().find((p) => p.policy === 'db');
    expect(waiting?.running).toEqual([expect.objectContaining({ kind: 'backup', started_at: null })]);
    calls[0]?.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.ctx.policy)).toEqual(['files', 'db']);
    calls[1]?.release();
    await scheduler.idle();
  });

  it('catches up once a slot missed while the daemon was down, not once per missed slot', async () => {
    const store = new MemoryRunStore();
    await store.recordBackupRun(record('files', T0 - 10 * MIN)); // ten slots ago
    const { scheduler, calls, lines } = setup(ONE, { store, instant: true });
    await scheduler.start();
    await scheduler.idle();
    expect(calls).toHaveLength(1);
    expect(lines.some((l) => l.msg === 'backup run started' && l.trigger === 'catch-up')).toBe(true);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(2);
  });

  it('does not catch up when the last run started after the latest slot, or when there is no history', async () => {
    const store = new MemoryRunStore();
    await store.recordBackupRun(record('files', T0 - 20_000)); // at 10:00:10, after the 10:00 slot
    const { scheduler, calls } = setup(TWO, { store });
    await scheduler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(0);
  });

  it('keeps the last runs and metrics the store remembers across a restart', async () => {
    const store = new MemoryRunStore();
    await store.recordBackupRun(record('db', T0 - 3 * 3_600_000, { copies: [] }));
    await store.recordBackupRun(record('db', T0 - 20_000, { ok: false, error: 'connection refused', snapshotId: null }));
    const { scheduler, registry } = setup(TWO, { store });
    await scheduler.start();
    const db = scheduler.status().find((p) => p.policy === 'db');
    expect(db).toMatchObject({ rpo_ms: 7_200_000, age_ms: 3 * 3_600_000, within_rpo: false, last_run: { ok: false, error: 'connection refused' } });
    expect(db?.copies).toEqual([{ repository: 'local', primary: true, last_success: new Date(T0 - 3 * 3_600_000).toISOString(), age_ms: 3 * 3_600_000 }]);
    expect(await metric(registry, 'bulwark_backup_last_success_timestamp_seconds{policy="db"}')).toBe((T0 - 3 * 3_600_000) / 1000);
    expect(await metric(registry, 'bulwark_backup_last_run_success{policy="db"}')).toBe(0);
    expect(await metric(registry, 'bulwark_backup_rpo_seconds{policy="db"}')).toBe(7200);
    expect(await metric(registry, 'bulwark_backup_rpo_seconds{policy="files"}')).toBeUndefined();
    expect(await metric(registry, 'bulwark_backup_age_seconds{policy="db"}')).toBe(3 * 3600);
  });

  it('tracks when each copy target last received a backup', async () => {
    const { scheduler, calls, registry } = setup(ONE);
    await scheduler.start();
    await vi.advanceTimersByTimeAsync(30_000);
    calls[0]?.release({ copies: [{ repository: 'offsite', ok: true, snapshotId: 'c1', error: null, durationMs: 5 }] });
    await scheduler.idle();
    await vi.advanceTimersByTimeAsync(MIN);
    calls[1]?.release({ copies: [{ repository: 'offsite', ok: false, snapshotId: null, error: 'unreachable', durationMs: 5 }] });
    await scheduler.idle();
    expect(await metric(registry, 'bulwark_backup_copy_last_success_timestamp_seconds{policy="files",repository="local"}')).toBe((T0 + 90_000) / 1000);
    expect(await metric(registry, 'bulwark_backup_copy_last_success_timestamp_seconds{policy="files",repository="offsite"}')).toBe((T0 + 30_000) / 1000);
  });

  it('stop aborts the run in flight and waits for it; the run is recorded as failed', async () => {
    const { scheduler, calls, store } = setup(ONE);
    await scheduler.start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toHaveLength(1);
    await scheduler.stop(new AbortController().signal);
    expect(calls[0]?.ctx.signal.aborted).toBe(true);
    expect(store.runs).toEqual([expect.objectContaining({ ok: false, error: 'the daemon is stopping' })]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop gives up waiting at the deadline for a run that ignores its signal', async () => {
    const never = () => new Promise<never>(() => undefined);
    const { log } = memoryLogger();
    const scheduler = new BackupScheduler({ config: testConfig(ONE), store: new MemoryRunStore(), registry: new Registry(), log, executors: { backup: never } });
    await scheduler.start();
    expect(scheduler.runNow('files')).toMatchObject({ started: true });
    const deadline = new AbortController();
    const stopped = scheduler.stop(deadline.signal);
    deadline.abort();
    await stopped;
  });

  it('reload reschedules changed and added policies, drops removed ones, and leaves the others alone', async () => {
    const { scheduler, lines, registry } = setup(TWO, { instant: true });
    await scheduler.start();
    lines.splice(0);
    const changed = `    files: { source: { paths: [/tmp/files] }, schedule: "every 1 minutes", copies: [local] }
    logs: { source: { paths: [/tmp/logs] }, schedule: "every 5 minutes", copies: [local] }
`;
    await scheduler.reload(testConfig(`${changed}    db: { source: { postgres: main }, schedule: "hourly", copies: [local] }\n`));
    expect(lines.filter((l) => l.msg === 'backup scheduled').map((l) => l.policy).sort()).toEqual(['db', 'logs']);
    expect(scheduler.status().map((p) => [p.policy, p.next_run])).toEqual([
      ['files', '2026-03-01T10:01:00.000Z'], ['logs', '2026-03-01T10:05:00.000Z'], ['db', '2026-03-01T11:00:00.000Z'],
    ]);
    await scheduler.reload(testConfig(changed));
    expect(lines.some((l) => l.msg === 'backup schedule removed' && l.policy === 'db')).toBe(true);
    expect(await metric(registry, 'bulwark_backup_rpo_seconds{policy="db"}')).toBeUndefined();
    expect(scheduler.status().map((p) => p.policy)).toEqual(['files', 'logs']);
  });

  it('runs a policy on demand, refuses a second while one is going, and knows no unknown policy', async () => {
    const { scheduler, calls } = setup(ONE);
    await scheduler.start();
    const first = scheduler.runNow('files');
    expect(first).toMatchObject({ started: true, kind: 'backup' });
    expect(scheduler.runNow('files')).toMatchObject({ started: false, running: { id: first.started ? first.id : '', trigger: 'api' } });
    expect(() => scheduler.runNow('nope')).toThrow(BulwarkError);
    expect(() => scheduler.runNow('files', 'verify')).toThrow(/no verify schedule/);
    await vi.advanceTimersByTimeAsync(0);
    calls[0]?.release();
    await scheduler.idle();
    expect(scheduler.runNow('files')).toMatchObject({ started: true });
  });

  it('verifies on the verify schedule, apart from the backups', async () => {
    const verify = `    files: { source: { paths: [/tmp/files] }, schedule: "daily at 02:00", copies: [local], verify: { schedule: "every 1 minutes", read_data_subset: 10% } }
`;
    const { scheduler, calls, registry } = setup(verify, { instant: true });
    await scheduler.start();
    await vi.advanceTimersByTimeAsync(30_000);
    await scheduler.idle();
    expect(calls.map((c) => c.ctx.kind)).toEqual(['verify']);
    expect(await metric(registry, 'bulwark_backup_verify_last_run_success{policy="files"}')).toBe(1);
    expect(await metric(registry, 'bulwark_backup_last_success_timestamp_seconds{policy="files"}')).toBeUndefined();
    expect(scheduler.status()[0]?.verify).toMatchObject({ read_data_subset: '10%', next_run: '2026-03-01T10:02:00.000Z' });
  });
});

describe('BackupScheduler without policies', () => {
  it('registers no metrics and sets no timers', async () => {
    const registry = new Registry();
    const scheduler = new BackupScheduler({ config: testConfig('    {}\n'), store: new MemoryRunStore(), registry, log: memoryLogger().log });
    await scheduler.start();
    expect(await registry.metrics()).not.toContain('bulwark_backup');
    expect(vi.getTimerCount()).toBe(0);
    expect(scheduler.status()).toEqual([]);
    await scheduler.stop(AbortSignal.abort());
  });
});
