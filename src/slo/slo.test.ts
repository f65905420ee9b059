import { describe, expect, it } from 'vitest';
import { maintenanceIntervals } from './maintenance.js';
import { measure, measureWindows, WINDOWS } from './slo.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const T = Date.UTC(2024, 0, 2);
const W = { start: T, end: T + D };

describe('measure', () => {
  it('one 30-minute outage in 24 h: 97.9 % and a 99.9 % budget overspent', () => {
    const m = measure({
      changes: [{ at: T - H, to: 'up' }, { at: T + 10 * H, to: 'down' }, { at: T + 10 * H + 30 * M, to: 'up' }],
      window: W,
      target: 0.999,
    });
    expect(m.availability).toBeCloseTo(1410 / 1440, 12); // 0.979166…
    expect(m).toMatchObject({ upMs: 23.5 * H, downMs: 30 * M, unknownMs: 0, maintenanceMs: 0, incidents: 1, mttrMs: 30 * M, mtbfMs: 23.5 * H });
    expect(m.downtimePeriods).toEqual([{ start: T + 10 * H, end: T + 10 * H + 30 * M, durationMs: 30 * M }]);
    expect(m.errorBudget.allowedMs).toBeCloseTo(86_400, 6); // 0.1 % of 24 h
    expect(m.errorBudget.usedMs).toBe(30 * M);
    expect(m.errorBudget.remainingRatio).toBeCloseTo(1 - 1_800_000 / 86_400, 9); // -19.83…
  });

  it('excludes maintenance overlapping an outage', () => {
    const changes = [{ at: T - H, to: 'up' }, { at: T + 10 * H, to: 'down' }, { at: T + 10 * H + 30 * M, to: 'up' }];
    const partial = measure({ changes, window: W, target: 0.999, maintenance: [{ start: T + 10 * H + 15 * M, end: T + 11 * H }] });
    expect(partial).toMatchObject({ downMs: 15 * M, maintenanceMs: 45 * M, upMs: 23 * H, incidents: 1 });
    expect(partial.availability).toBeCloseTo(1380 / 1395, 12);
    expect(partial.downtimePeriods).toEqual([{ start: T + 10 * H, end: T + 10 * H + 15 * M, durationMs: 15 * M }]);

    const covered = measure({ changes, window: W, target: 0.999, maintenance: [{ start: T + 9 * H, end: T + 12 * H }] });
    expect(covered).toMatchObject({ availability: 1, downMs: 0, incidents: 0, mttrMs: null, mtbfMs: null });
    expect(covered.errorBudget.remainingRatio).toBe(1);
  });

  it('leaves unknown time at the start out of availability', () => {
    const m = measure({
      changes: [{ at: T + 6 * H, to: 'up' }, { at: T + 12 * H, to: 'down' }, { at: T + 13 * H, to: 'up' }],
      window: W,
      target: 0.99,
    });
    expect(m).toMatchObject({ unknownMs: 6 * H, upMs: 17 * H, downMs: H });
    expect(m.availability).toBeCloseTo(17 / 18, 12);
    expect(m.errorBudget.allowedMs).toBeCloseTo(0.01 * 18 * H, 6);
    expect(m.errorBudget.remainingRatio).toBeCloseTo(1 - H / (0.01 * 18 * H), 9);
  });

  it('reports an ongoing outage open-ended and leaves it out of MTTR', () => {
    const m = measure({ changes: [{ at: T - D, to: 'up' }, { at: T + 23 * H, to: 'down' }], window: W, target: 0.9 });
    expect(m.downtimePeriods).toEqual([{ start: T + 23 * H, end: null, durationMs: H }]);
    expect(m).toMatchObject({ incidents: 1, mttrMs: null, mtbfMs: 23 * H, downMs: H });
    expect(m.availability).toBeCloseTo(23 / 24, 12);
    // 10 % of 24 h allowed = 2.4 h; 1 h used.
    expect(m.errorBudget.remainingRatio).toBeCloseTo(1 - 1 / 2.4, 9);
  });

  it('computes MTTR and MTBF over two outages', () => {
    const m = measure({
      changes: [
        { at: T - H, to: 'up' },
        { at: T + 2 * H, to: 'down' }, { at: T + 2 * H + 10 * M, to: 'up' },
        { at: T + 12 * H, to: 'down' }, { at: T + 12 * H + 50 * M, to: 'up' },
      ],
      window: W,
      target: 0.999,
    });
    expect(m).toMatchObject({ incidents: 2, downMs: H, upMs: 23 * H, mttrMs: 30 * M, mtbfMs: 11.5 * H });
  });

  it('has no availability without data, and a full budget', () => {
    const m = measure({ changes: [], window: W, target: 0.999 });
    expect(m).toMatchObject({ availability: null, unknownMs: D, incidents: 0, mttrMs: null, mtbfMs: null });
    expect(m.errorBudget).toEqual({ allowedMs: 0, usedMs: 0, remainingRatio: 1 });
  });

  it('excludes a nightly croner maintenance window', () => {
    // Down 01:30–03:30 UTC; maintenance 02:00–03:00 every night.
    const maintenance = maintenanceIntervals(
      [{ name: 'nightly', services: ['api'], schedule: { cron: '0 2 * * *', timezone: 'UTC' }, duration: H }],
      W,
      'api',
    );
    const m = measure({
      changes: [{ at: T - H, to: 'up' }, { at: T + 1.5 * H, to: 'down' }, { at: T + 3.5 * H, to: 'up' }],
      window: W,
      maintenance,
      target: 0.999,
    });
    expect(m).toMatchObject({ maintenanceMs: H, downMs: H, upMs: 22 * H, incidents: 2, mttrMs: 30 * M, mtbfMs: 11 * H });
    expect(m.downtimePeriods).toEqual([
      { start: T + 1.5 * H, end: T + 2 * H, durationMs: 30 * M },
      { start: T + 3 * H, end: T + 3.5 * H, durationMs: 30 * M },
    ]);
    expect(m.availability).toBeCloseTo(22 / 23, 12);
  });
});

describe('measureWindows', () => {
  it('measures every window ending now', () => {
    expect(WINDOWS).toEqual({ '1h': H, '24h': D, '7d': 7 * D, '30d': 30 * D, '90d': 90 * D });
    const now = T + 100 * D;
    const all = measureWindows({ changes: [{ at: now - 100 * D, to: 'up' }, { at: now - 30 * M, to: 'down' }], now, target: 0.999 });
    expect(Object.keys(all)).toEqual(['1h', '24h', '7d', '30d', '90d']);
    expect(all['1h'].availability).toBeCloseTo(0.5, 12);
    expect(all['24h'].availability).toBeCloseTo(1 - 30 / 1440, 12);
    expect(all['90d'].downMs).toBe(30 * M);
    expect(all['90d'].upMs).toBe(90 * D - 30 * M);
    expect(all['7d'].downtimePeriods).toEqual([{ start: now - 30 * M, end: null, durationMs: 30 * M }]);
  });
});
