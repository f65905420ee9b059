import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { DrillOutcome, Store } from '../../store/index.js';
import { DrillSource } from './drills.js';
import { brief, recorder, setup, tempStore } from './testing/fixtures.js';

const T0 = Date.UTC(2026, 2, 10, 12);

const YAML = `
dr_testing:
  backup_restoration: { frequency: monthly }
  other: { type: backup_restoration, schedule: weekly }
alerting:
  rules:
    drills: { when: drill_failed, severity: critical }
`;

let db: Awaited<ReturnType<typeof tempStore>>;
let store: Store;
beforeEach(async () => {
  db = await tempStore();
  store = db.store;
});
afterEach(() => db.close());

let seq = 0;
async function record(drill: string, outcome: DrillOutcome, at: number): Promise<string> {
  const id = `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
  await store.drillRuns.record({
    id, drill, type: 'backup_restoration', startedAt: at - 1000, finishedAt: at, outcome,
    measured: { target: { tier: 'gold' } }, report: { issues: outcome === 'failed' ? ['files: RTO missed by 5 ms', 'second', 'third'] : [] },
  });
  return id;
}

describe('DrillSource', () => {
  it('fires drill_failed on a drill whose newest graded run failed, and clears when a newer one passes; an aborted run changes nothing', async () => {
    const { config, rules } = setup(YAML);
    const rec = recorder();
    const source = new DrillSource({ rules, config, store, log: silentLogger(), now: () => T0, intervalMs: 3_600_000 });
    source.start(rec.emit);
    await source.poll();
    expect(rec.take()).toEqual([]);

    const failed = await record('backup_restoration', 'failed', T0 - 3000);
    await record('other', 'passed', T0 - 3000);
    await source.poll();
    const fired = rec.take();
    expect(brief(fired)).toEqual([['drills', 'drill/backup_restoration', true]]);
    expect(fired[0]!.summary).toBe(`drill backup_restoration failed at ${new Date(T0 - 3000).toISOString()} (run ${failed.slice(0, 8)}): files: RTO missed by 5 ms; second; and 1 more`);
    expect(fired[0]!.labels).toEqual({ drill: 'backup_restoration', type: 'backup_restoration', tier: 'gold', run: failed });

    await record('backup_restoration', 'aborted', T0 - 2000);
    await source.poll();
    expect(rec.take()).toEqual([]);
    expect(source.snapshot().map((s) => s.subject)).toEqual(['drill/backup_restoration']);

    await record('backup_restoration', 'passed', T0 - 1000);
    await source.poll();
    expect(brief(rec.take())).toEqual([['drills', 'drill/backup_restoration', false]]);
    source.stop();
  });
});
