import { Gauge, Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { BackupRunRecord, Store } from '../../store/index.js';
import { BackupSource } from './backups.js';
import { brief, recorder, setup, tempStore } from './testing/fixtures.js';

const M = 60_000;
const H = 60 * M;
const T0 = Date.UTC(2026, 2, 10, 12);

const YAML = `
sla_tiers:
  premium: { availability: 99.9%, rto: 5m, rpo: 1h }
databases:
  main-db:
    tier: premium
    postgres:
      members:
        - { name: pg-a, host: 127.0.0.1, port: 15432 }
      superuser_password: secret
      replication_password: secret
backups:
  repositories:
    local: { path: /tmp/repo, password: pw }
  policies:
    main-db:
      source: { postgres: main-db }
      schedule: every 30 minutes
      copies: [local]
      verify: { schedule: daily at 04:00 }
    wal:
      source: { postgres: main-db }
      schedule: daily at 02:00
      wal_archiving: true
      copies: [local]
`;

let db: Awaited<ReturnType<typeof tempStore>>;
let store: Store;
beforeEach(async () => {
  db = await tempStore();
  store = db.store;
});
afterEach(() => db.close());

function run(policy: string, kind: 'backup' | 'verify', finishedAt: number, ok: boolean): BackupRunRecord {
  return {
    id: `${policy}-${kind}-${finishedAt}`, policy, kind, startedAt: finishedAt - M, finishedAt, durationMs: M, ok, partial: false,
    repository: 'local', snapshotId: ok ? 'snap' : null, bytes: null, addedBytes: null, storedBytes: null, files: null,
    error: ok ? null : 'repository locked', copies: [],
  };
}

function harness() {
  const { config, rules } = setup(YAML);
  const registry = new Registry();
  const walLag = new Gauge({ name: 'bulwark_wal_archive_lag_seconds', help: 'h', labelNames: ['policy'], registers: [registry] });
  let now = T0;
  const rec = recorder();
  const source = new BackupSource({ rules, config, store, registry, log: silentLogger(), now: () => now, intervalMs: 3_600_000 });
  return { rec, source, walLag, advance: (ms: number) => (now += ms) };
}

describe('BackupSource', () => {
  it('fires backup_failed and verify_failed on the latest run, and clears on the next good one', async () => {
    const h = harness();
    await store.recordBackupRun(run('main-db', 'backup', T0 - 2 * M, false));
    await store.recordBackupRun(run('main-db', 'verify', T0 - 3 * M, false));
    h.source.start(h.rec.emit);
    await h.source.poll();
    const fired = h.rec.take();
    expect(brief(fired)).toEqual([
      ['main-db:backup_failed', 'policy/main-db', true],
      ['main-db:verify_failed', 'policy/main-db', true],
    ]);
    expect(fired[0]?.summary).toBe(`backup of main-db failed at ${new Date(T0 - 2 * M).toISOString()}: repository locked`);
    expect(fired[0]?.labels).toEqual({ policy: 'main-db', database: 'main-db', tier: 'premium' });

    await store.recordBackupRun(run('main-db', 'backup', T0 - M, true));
    await h.source.poll();
    expect(brief(h.rec.take())).toEqual([['main-db:backup_failed', 'policy/main-db', false]]);
    h.source.stop();
  });

  it('calls a backup stale past the tier RPO, counting from the daemon start when none ever succeeded', async () => {
    const h = harness();
    h.source.start(h.rec.emit);
    await h.source.poll();
    expect(h.rec.take()).toEqual([]);

    h.advance(H + M);
    await h.source.poll();
    const fired = h.rec.take();
    expect(brief(fired)).toEqual([['main-db:backup_stale', 'policy/main-db', true]]);
    expect(fired[0]?.summary).toBe('no successful backup of main-db yet, 1h1m after the daemon started (more than the 1h allowed for the premium tier)');

    await store.recordBackupRun(run('main-db', 'backup', T0 + H, true));
    await h.source.poll();
    expect(brief(h.rec.take())).toEqual([['main-db:backup_stale', 'policy/main-db', false]]);

    h.advance(H);
    await h.source.poll();
    const stale = h.rec.take();
    expect(stale[0]?.summary).toBe('last successful backup of main-db finished 1h1m ago (more than the 1h allowed for the premium tier)');
    h.source.stop();
  });

  it('fires wal_archive_lag above the RPO the policy keeps by WAL', async () => {
    const h = harness();
    h.walLag.set({ policy: 'wal' }, 2 * 3600);
    h.source.start(h.rec.emit);
    await h.source.poll();
    const fired = h.rec.take();
    expect(brief(fired)).toEqual([['wal:wal_archive_lag', 'policy/wal', true]]);
    expect(fired[0]?.summary).toBe('WAL archiving of wal is 2h behind (more than 1h)');
    expect(h.source.snapshot()).toHaveLength(1);
    h.walLag.set({ policy: 'wal' }, 10);
    await h.source.poll();
    expect(brief(h.rec.take())).toEqual([['wal:wal_archive_lag', 'policy/wal', false]]);
    h.source.stop();
  });
});
