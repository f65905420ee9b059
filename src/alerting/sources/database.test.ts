import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { EventBus } from '../../events/index.js';
import type { DatabaseHaEvents } from '../../postgres-ha/index.js';
import { DatabaseSource } from './database.js';
import { brief, recorder, setup } from './testing/fixtures.js';

const YAML = `
sla_tiers:
  premium: { availability: 99.9%, rto: 5m, rpo: 1m }
databases:
  main-db:
    tier: premium
    postgres:
      members:
        - { name: pg-a, host: 127.0.0.1, port: 15432 }
        - { name: pg-b, host: 127.0.0.1, port: 15433 }
      superuser_password: secret
      replication_password: secret
alerting:
  rules:
    fo: { when: failover }
    nosync: { when: no_sync_standby, severity: critical }
    lag: { when: replication_lag, max_lag: 1MiB }
`;

function harness() {
  const { config, rules } = setup(YAML);
  const bus = new EventBus<DatabaseHaEvents>();
  const registry = new Registry();
  const alone = new Counter({ name: 'bulwark_db_without_sync_standby_seconds_total', help: 'h', labelNames: ['database', 'member'], registers: [registry] });
  const lag = new Gauge({ name: 'bulwark_db_member_lag_bytes', help: 'h', labelNames: ['database', 'member'], registers: [registry] });
  const rec = recorder();
  const source = new DatabaseSource({ rules, config, bus, registry, log: silentLogger(), now: () => 42_000, intervalMs: 3_600_000 });
  return { bus, alone, lag, rec, source };
}

describe('DatabaseSource', () => {
  it('turns a failover on the bus into a one-shot signal naming both primaries', () => {
    const h = harness();
    h.source.start(h.rec.emit);
    const entry = { kind: 'switchover' as const, from: 'pg-a', to: 'pg-b', timeline: 3, at: new Date(10_000).toISOString(), durationMs: 2_200 };
    h.bus.emit('database.failover', { database: 'main-db', member: 'pg-b', entry, at: 10_000 });
    const [signal, ...rest] = h.rec.take();
    expect(rest).toEqual([]);
    expect(signal).toMatchObject({
      rule: 'fo', subject: 'database/main-db', firing: true, oneShot: true, at: 10_000,
      summary: 'main-db switched over from pg-a to pg-b (switchover, 2.2 s)',
      labels: { database: 'main-db', tier: 'premium', kind: 'switchover', member: 'pg-b', from: 'pg-a' },
    });
    expect(h.source.snapshot()).toEqual([]);
    h.source.stop();
  });

  it('fires no_sync_standby while the counter grows, and clears when it stops', async () => {
    const h = harness();
    h.alone.inc({ database: 'main-db', member: 'pg-a' }, 3);
    h.source.start(h.rec.emit);
    await h.source.poll();
    expect(h.rec.take()).toEqual([]);

    h.alone.inc({ database: 'main-db', member: 'pg-a' }, 5);
    await h.source.poll();
    const fired = h.rec.take();
    expect(brief(fired)).toEqual([['nosync', 'database/main-db', true]]);
    expect(fired[0]?.summary).toBe('main-db has no synchronous standby: pg-a acknowledges commits alone');

    h.alone.inc({ database: 'main-db', member: 'pg-a' }, 5);
    await h.source.poll();
    expect(h.rec.take()).toEqual([]);

    await h.source.poll();
    expect(brief(h.rec.take())).toEqual([['nosync', 'database/main-db', false]]);
    h.source.stop();
  });

  it('fires replication_lag per member above the rule max_lag', async () => {
    const h = harness();
    h.lag.set({ database: 'main-db', member: 'pg-b' }, 2 * 1024 * 1024);
    h.source.start(h.rec.emit);
    await h.source.poll();
    const fired = h.rec.take();
    expect(brief(fired)).toEqual([['lag', 'database/main-db/pg-b', true]]);
    expect(fired[0]?.summary).toBe('main-db member pg-b is 2.0 MiB behind the primary (more than 1.0 MiB)');
    expect(h.source.snapshot()).toHaveLength(1);

    h.lag.set({ database: 'main-db', member: 'pg-b' }, 1024);
    await h.source.poll();
    expect(brief(h.rec.take())).toEqual([['lag', 'database/main-db/pg-b', false]]);
    h.source.stop();
  });
});
