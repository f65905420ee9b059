import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type Store } from '../store/index.js';
import { measureWindows } from '../slo/index.js';
import { evaluateOwnerBurnRate, ownerWindowCounts } from './burn-source.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const T0 = Date.UTC(2026, 2, 10, 12);

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-burn-'));
  store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function change(subject: string, from: string, to: string, at: number, subjectKind: 'service' | 'database' = 'service'): Promise<void> {
  await store.recordStateChange({ subjectKind, subject, from, to, at });
}

const api = { kind: 'service' as const, name: 'api' };

describe('ownerWindowCounts', () => {
  it('counts down time as bad and up + down time as total, per window', async () => {
    await change('api', 'unknown', 'up', T0 - 10 * D);
    await change('api', 'up', 'down', T0 - 10 * M);
    await change('api', 'down', 'up', T0 - 4 * M);
    const counts = await ownerWindowCounts(store, { owner: api, now: T0, windowsMs: [5 * M, H, 3 * D] });
    expect(counts.get(5 * M)).toEqual({ bad: M, total: 5 * M });
    expect(counts.get(H)).toEqual({ bad: 6 * M, total: H });
    expect(counts.get(3 * D)).toEqual({ bad: 6 * M, total: 3 * D });
  });

  it('leaves unknown time (no state yet) out of the total, and knows nothing of other owners', async () => {
    await change('api', 'unknown', 'down', T0 - 2 * M);
    await change('api', 'unknown', 'up', T0 - 2 * D, 'database');
    const counts = await ownerWindowCounts(store, { owner: api, now: T0, windowsMs: [5 * M, H] });
    expect(counts.get(5 * M)).toEqual({ bad: 2 * M, total: 2 * M });
    expect(counts.get(H)).toEqual({ bad: 2 * M, total: 2 * M });
    const none = await ownerWindowCounts(store, { owner: { kind: 'service', name: 'web' }, now: T0, windowsMs: [H] });
    expect(none.get(H)).toEqual({ bad: 0, total: 0 });
  });

  it('takes out the owner\'s maintenance windows, as the SLO reporter does', async () => {
    await change('api', 'unknown', 'up', T0 - 2 * D);
    await change('api', 'up', 'down', T0 - 30 * M);
    const maintenanceWindows = [
      { name: 'patching', services: ['api'], start: new Date(T0 - 40 * M).toISOString(), duration: 20 * M },
      { name: 'other', services: ['web'], start: new Date(T0 - 10 * M).toISOString(), duration: 10 * M },
    ];
    const counts = await ownerWindowCounts(store, { owner: api, now: T0, windowsMs: [H], maintenanceWindows });
    expect(counts.get(H)).toEqual({ bad: 20 * M, total: 40 * M });
  });

  it('asks for nothing without windows', async () => {
    expect((await ownerWindowCounts(store, { owner: api, now: T0, windowsMs: [] })).size).toBe(0);
  });
});

describe('evaluateOwnerBurnRate', () => {
  it('an ongoing full outage of a database pages on the fast row after the workbook\'s 51.84 s, not before', async () => {
    const db = { kind: 'database' as const, name: 'main-db' };
    await change('main-db', 'unknown', 'up', T0 - 40 * D, 'database');
    await change('main-db', 'up', 'down', T0, 'database');
    const early = await evaluateOwnerBurnRate(store, { owner: db, target: 0.999, now: T0 + 51 * S });
    expect(early.firing).toEqual([]);
    const late = await evaluateOwnerBurnRate(store, { owner: db, target: 0.999, now: T0 + 52 * S });
    expect(late.firing.map((a) => [a.spec.longWindowMs, a.spec.shortWindowMs])).toEqual([[H, 5 * M]]);
    expect(late.severity).toBe('critical');
  });

  it('a window with no history at all fires nothing', async () => {
    const e = await evaluateOwnerBurnRate(store, { owner: api, target: 0.999, now: T0 });
    expect(e.firing).toEqual([]);
    expect(e.alerts.every((a) => a.long.burnRate === null && a.short.burnRate === null)).toBe(true);
  });

  it('burns exactly as fast as the SLO reporter\'s error budget shrinks', async () => {
    await change('api', 'unknown', 'up', T0 - 10 * D);
    await change('api', 'up', 'down', T0 - 50 * M);
    await change('api', 'down', 'up', T0 - 47 * M);
    await change('api', 'up', 'down', T0 - 2 * M);
    const target = 0.9995;
    const e = await evaluateOwnerBurnRate(store, { owner: api, target, now: T0 });
    const changes = await store.stateChanges({ subjectKind: 'service', subject: 'api', since: T0 - 90 * D, until: T0 });
    const hour = measureWindows({ changes, now: T0, target })['1h'].errorBudget;
    expect(e.alerts[0]!.long.burnRate).toBeCloseTo(hour.usedMs / hour.allowedMs, 9);
    expect(e.alerts[0]!.long.burnRate).toBeCloseTo((5 / 60) / 0.0005, 6);
    expect(e.alerts[0]!.firing).toBe(true);
  });
});
