import { describe, expect, it } from 'vitest';
import type { ProbeResultInput, ProbeRetention, Store } from '../store.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
/** A UTC midnight: 2024-01-02T00:00:00Z. */
const T0 = Date.UTC(2024, 0, 2);

function result(target: string, at: number, ok: boolean, durationMs: number, reason?: string): ProbeResultInput {
  return { target, at, ok, durationMs, ...(reason === undefined ? {} : { reason }) };
}

/** Probe-history tests, run by `store.test.ts` against each backend after migrating. */
export function probeHistorySuite(current: () => Store): void {
  describe('probe history', () => {
    it('rolls results up per minute, hour and day across bucket boundaries', async () => {
      const store = current();
      await store.recordProbeResults([
        result('api', T0 - 1000, true, 10), // previous day, 23:59:59
        result('api', T0 + 5000, false, 30, 'timeout'),
        result('api', T0 + 59_999, true, 20),
        result('api', T0 + M, true, 40), // next minute
        result('api', T0 + H + 1, true, 5), // next hour
        result('db', T0 + 1, true, 7),
      ]);
      const minute = await store.probeRollups({ target: 'api', resolution: 'minute', since: T0 - M, until: T0 + 2 * H });
      expect(minute.map((r) => [r.bucket - T0, r.checks, r.ok, r.durationSumMs, r.durationMaxMs])).toEqual([
        [-M, 1, 1, 10, 10], [0, 2, 1, 50, 30], [M, 1, 1, 40, 40], [H, 1, 1, 5, 5],
      ]);
      const hour = await store.probeRollups({ target: 'api', resolution: 'hour', since: T0 - H, until: T0 + H });
      expect(hour.map((r) => [r.bucket - T0, r.checks, r.ok, r.durationSumMs, r.durationMaxMs])).toEqual([
        [-H, 1, 1, 10, 10], [0, 3, 2, 90, 40], [H, 1, 1, 5, 5],
      ]);
      const day = await store.probeRollups({ target: 'api', resolution: 'day', since: T0 - D, until: T0 });
      expect(day.map((r) => [r.bucket - T0, r.checks, r.ok, r.durationSumMs, r.durationMaxMs])).toEqual([
        [-D, 1, 1, 10, 10], [0, 4, 3, 95, 40],
      ]);
      // A bucket overlapping `since` is included; one starting after `until` is not.
      const partial = await store.probeRollups({ target: 'api', resolution: 'hour', since: T0 + 30 * M, until: T0 + 30 * M });
      expect(partial.map((r) => r.bucket)).toEqual([T0]);
      expect(day[0]).toMatchObject({ target: 'api', resolution: 'day' });

      const latest = await store.latestProbeResults('api', 3);
      expect(latest).toEqual([
        { target: 'api', at: T0 + H + 1, ok: true, durationMs: 5, reason: null },
        { target: 'api', at: T0 + M, ok: true, durationMs: 40, reason: null },
        { target: 'api', at: T0 + 59_999, ok: true, durationMs: 20, reason: null },
      ]);
      expect((await store.latestProbeResults('api', 10)).find((r) => !r.ok)?.reason).toBe('timeout');
    });

    it('accumulates a second call into the same buckets', async () => {
      const store = current();
      await store.recordProbeResults([result('api', T0 + 1000, true, 10), result('api', T0 + 2000, false, 50)]);
      await store.recordProbeResults([result('api', T0 + 3000, true, 70), result('api', T0 + 4000, true, 20)]);
      for (const resolution of ['minute', 'hour', 'day'] as const) {
        const rows = await store.probeRollups({ target: 'api', resolution, since: T0, until: T0 });
        expect(rows.map((r) => [r.bucket, r.checks, r.ok, r.durationSumMs, r.durationMaxMs])).toEqual([[T0, 4, 3, 150, 70]]);
      }
      expect(await store.latestProbeResults('api', 100)).toHaveLength(4);
    });

    it('records a thousand results in chunks, correctly', async () => {
      const store = current();
      const rows = Array.from({ length: 1000 }, (_, i) => result(`t${i % 100}`, T0 + i * 100, i % 10 !== 0, i));
      await store.recordProbeResults(rows);
      const t7 = await store.probeRollups({ target: 't7', resolution: 'minute', since: T0, until: T0 + D });
      // t7 checked at i = 7, 107, …, 907: i * 100 ms → minute 0 for i < 600, minute 1 after.
      expect(t7.map((r) => [r.bucket - T0, r.checks, r.ok, r.durationSumMs, r.durationMaxMs])).toEqual([
        [0, 6, 6, 7 + 107 + 207 + 307 + 407 + 507, 507], [M, 4, 4, 607 + 707 + 807 + 907, 907],
      ]);
      const t0 = await store.probeRollups({ target: 't0', resolution: 'day', since: T0, until: T0 });
      expect(t0.map((r) => [r.checks, r.ok])).toEqual([[10, 0]]);
    });

    it('returns state changes in a window plus the state at its start', async () => {
      const store = current();
      const change = (subject: string, from: string, to: string, at: number): Promise<unknown> =>
        store.recordStateChange({ subjectKind: 'target', subject, from, to, at });
      await change('a', 'unknown', 'up', 100);
      await change('a', 'up', 'down', 200);
      await change('a', 'down', 'up', 300);
      await change('a', 'up', 'down', 400);
      await change('b', 'unknown', 'up', 50);
      await change('c', 'unknown', 'up', 350);
      await store.recordStateChange({ subjectKind: 'service', subject: 'a', from: 'up', to: 'down', at: 250, reason: 'x' });

      const a = await store.stateChanges({ subjectKind: 'target', subject: 'a', since: 250, until: 400 });
      expect(a.map((c) => [c.at, c.to])).toEqual([[200, 'down'], [300, 'up'], [400, 'down']]);
      expect(a[0]).toMatchObject({ subjectKind: 'target', subject: 'a', from: 'up', reason: null });

      const all = await store.stateChanges({ subjectKind: 'target', since: 300, until: 350 });
      expect(all.map((c) => [c.subject, c.at])).toEqual([['b', 50], ['a', 200], ['a', 300], ['c', 350]]);
      const open = await store.stateChanges({ subjectKind: 'target', subject: 'a', since: 301 });
      expect(open.map((c) => c.at)).toEqual([300, 400]);
      const services = await store.stateChanges({ subjectKind: 'service', since: 0 });
      expect(services).toEqual([expect.objectContaining({ subject: 'a', at: 250, reason: 'x' })]);
    });

    it('prunes exactly the old rows and keeps the state at the cutoff', async () => {
      const store = current();
      const now = T0 + 500 * D;
      const retention: ProbeRetention = { rawMs: D, minuteMs: 7 * D, hourMs: 90 * D, dayMs: 400 * D, stateChangesMs: 30 * D };
      await store.recordProbeResults([
        result('api', now - 200 * D, true, 1), // only its day rollup survives
        result('api', now - 10 * D, true, 1), // hour and day survive
        result('api', now - 2 * D, true, 1), // minute, hour, day survive
        result('api', now - H, true, 1), // everything survives
      ]);
      const change = (subject: string, at: number): Promise<unknown> =>
        store.recordStateChange({ subjectKind: 'target', subject, from: 'up', to: 'down', at });
      await change('a', now - 60 * D);
      await change('a', now - 50 * D); // last before the cutoff: kept
      await change('a', now - D);
      await change('b', now - 90 * D);
      await change('b', now - 80 * D); // b's latest change: kept

      expect(await store.pruneProbeHistory(retention, now)).toEqual({ raw: 3, minute: 2, hour: 1, day: 0, stateChanges: 2 });
      const counts = async (resolution: 'minute' | 'hour' | 'day'): Promise<number> =>
        (await store.probeRollups({ target: 'api', resolution, since: 0, until: now })).length;
      expect([await counts('minute'), await counts('hour'), await counts('day')]).toEqual([2, 3, 4]);
      expect((await store.latestProbeResults('api', 10)).map((r) => r.at)).toEqual([now - H]);
      const left = await store.stateChanges({ subjectKind: 'target', since: 0 });
      expect(left.map((c) => [c.subject, c.at])).toEqual([['b', now - 80 * D], ['a', now - 50 * D], ['a', now - D]]);
      expect(await store.pruneProbeHistory(retention, now)).toEqual({ raw: 0, minute: 0, hour: 0, day: 0, stateChanges: 0 });
    });

    it('reports its storage size', async () => {
      const bytes = await current().storageBytes();
      expect(bytes).toBeGreaterThan(0);
    });
  });
}
