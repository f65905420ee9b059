import { describe, expect, it } from 'vitest';
import {
  burnRate, burnRateThreshold, burnRateWindows, detectionTimeMs, evaluateBurnRate, WORKBOOK_BURN_RATE_ALERTS,
  type WindowCounts, type WindowCountsSource,
} from './burn-rate.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/** Errors at `ratio` during [start, end); fully observed before and after. */
interface ErrorSpell {
  start: number;
  end: number;
  ratio: number;
}

/** Time-based counts at `now`: bad = the error ratio integrated over the window, total = the window. */
function sourceAt(now: number, spells: readonly ErrorSpell[]): WindowCountsSource {
  return (windowMs) => {
    const from = now - windowMs;
    const bad = spells.reduce((sum, s) => sum + s.ratio * Math.max(0, Math.min(now, s.end) - Math.max(from, s.start)), 0);
    return { bad, total: windowMs };
  };
}

/** The first second, from `from`, at which row `row` of the table fires; null within `limit`. */
function firstFiring(row: number, spells: readonly ErrorSpell[], from: number, limit: number, target = 0.999): number | null {
  for (let t = from; t <= from + limit; t += S) {
    if (evaluateBurnRate(target, sourceAt(t, spells)).alerts[row]!.firing) return t;
  }
  return null;
}

function firstClear(row: number, spells: readonly ErrorSpell[], from: number, limit: number, target = 0.999): number | null {
  for (let t = from; t <= from + limit; t += S) {
    if (!evaluateBurnRate(target, sourceAt(t, spells)).alerts[row]!.firing) return t;
  }
  return null;
}

describe('the workbook table (SRE workbook, "Alerting on SLOs", table 5-8)', () => {
  it('is exported row by row: page 1h/5m 14.4 (2%), page 6h/30m 6 (5%), ticket 3d/6h 1 (10%)', () => {
    expect(WORKBOOK_BURN_RATE_ALERTS.map((s) => [s.action, s.severity, s.longWindowMs, s.shortWindowMs, s.burnRate, s.budgetConsumed])).toEqual([
      ['page', 'critical', H, 5 * M, 14.4, 0.02],
      ['page', 'critical', 6 * H, 30 * M, 6, 0.05],
      ['ticket', 'warning', 3 * D, 6 * H, 1, 0.1],
    ]);
  });

  it('derives each burn rate from the budget consumed over a 30-day period', () => {
    expect(burnRateThreshold(0.02, H)).toBeCloseTo(14.4, 12);
    expect(burnRateThreshold(0.05, 6 * H)).toBeCloseTo(6, 12);
    expect(burnRateThreshold(0.1, 3 * D)).toBeCloseTo(1, 12);
    for (const s of WORKBOOK_BURN_RATE_ALERTS) expect(s.shortWindowMs * 12).toBe(s.longWindowMs);
  });

  it('lists the windows a source must compute, shortest first', () => {
    expect(burnRateWindows()).toEqual([5 * M, 30 * M, H, 6 * H, 3 * D]);
  });
});

describe('burnRate', () => {
  it('is the error ratio over the allowed one', () => {
    expect(burnRate({ bad: 1, total: 1000 }, 0.999)).toBeCloseTo(1, 12);
    expect(burnRate({ bad: 144, total: 10_000 }, 0.999)).toBeCloseTo(14.4, 12);
    expect(burnRate({ bad: 10, total: 10 }, 0.99)).toBeCloseTo(100, 12);
  });

  it('is null without data, and infinite for any error against 100 %', () => {
    expect(burnRate({ bad: 0, total: 0 }, 0.999)).toBeNull();
    expect(burnRate({ bad: 1, total: 10 }, 1)).toBe(Number.POSITIVE_INFINITY);
    expect(burnRate({ bad: 0, total: 10 }, 1)).toBe(0);
  });
});

describe('evaluateBurnRate', () => {
  const steady = (ratio: number): WindowCountsSource => () => ({ bad: ratio * 1_000_000, total: 1_000_000 });

  it('a sustained 1.44 % error ratio on a 99.9 % SLO fires the 1 h / 5 m page, and the others with it', () => {
    const e = evaluateBurnRate(0.999, steady(0.0144));
    expect(e.alerts.map((a) => a.firing)).toEqual([true, true, true]);
    expect(e.alerts[0]!.long.burnRate).toBeCloseTo(14.4, 9);
    expect(e.alerts[0]!.short.burnRate).toBeCloseTo(14.4, 9);
    expect(e.severity).toBe('critical');
  });

  it('just under 1.44 % does not page on the fast row; 0.6 % pages on the 6 h row; 0.1 % opens a ticket only', () => {
    expect(evaluateBurnRate(0.999, steady(0.0143)).alerts.map((a) => a.firing)).toEqual([false, true, true]);
    expect(evaluateBurnRate(0.999, steady(0.006)).alerts.map((a) => a.firing)).toEqual([false, true, true]);
    const ticket = evaluateBurnRate(0.999, steady(0.001));
    expect(ticket.firing.map((a) => a.spec.action)).toEqual(['ticket']);
    expect(ticket.severity).toBe('warning');
    expect(evaluateBurnRate(0.999, steady(0.0009)).severity).toBeNull();
  });

  it('needs both windows: a long window over the rate with a quiet short window does not fire', () => {
    const counts = new Map<number, WindowCounts>([[H, { bad: 100, total: 1000 }], [5 * M, { bad: 0, total: 100 }]]);
    const e = evaluateBurnRate(0.999, counts);
    expect(e.alerts[0]).toMatchObject({ firing: false, long: { windowMs: H, bad: 100, total: 1000 }, short: { windowMs: 5 * M, burnRate: 0 } });
    expect(e.alerts[0]!.long.burnRate).toBeCloseTo(100, 9);
  });

  it('a window with no data never fires, whatever the other says', () => {
    const counts = new Map<number, WindowCounts>([[H, { bad: 1000, total: 1000 }], [5 * M, { bad: 0, total: 0 }]]);
    const e = evaluateBurnRate(0.999, counts);
    expect(e.alerts[0]).toMatchObject({ firing: false, short: { burnRate: null } });
    expect(e.alerts[1]).toMatchObject({ firing: false, long: { burnRate: null, total: 0 } });
    expect(evaluateBurnRate(0.999, () => ({ bad: 0, total: 0 })).severity).toBeNull();
  });

  it('the rates are ratios to the budget: the same table works for 99 % and 99.99 %', () => {
    expect(evaluateBurnRate(0.99, steady(0.144)).alerts[0]!.firing).toBe(true);
    expect(evaluateBurnRate(0.99, steady(0.14)).alerts[0]!.firing).toBe(false);
    expect(evaluateBurnRate(0.9999, steady(0.00144)).alerts[0]!.firing).toBe(true);
  });

  it('takes other specs', () => {
    const only = [{ ...WORKBOOK_BURN_RATE_ALERTS[0]!, burnRate: 2 }];
    expect(evaluateBurnRate(0.999, steady(0.002)).alerts).toHaveLength(3);
    expect(evaluateBurnRate(0.999, steady(0.002), only).firing).toHaveLength(1);
  });
});

describe('detection time ((1 - SLO) / error ratio * window * burn rate)', () => {
  const T0 = Date.UTC(2026, 0, 10);

  it('the formula, for a full outage on a 99.9 % SLO: 51.84 s, 129.6 s and 259.2 s', () => {
    expect(detectionTimeMs(0.999, 1, H, 14.4)).toBeCloseTo(51_840, 6);
    expect(detectionTimeMs(0.999, 1, 6 * H, 6)).toBeCloseTo(129_600, 6);
    expect(detectionTimeMs(0.999, 1, 3 * D, 1)).toBeCloseTo(259_200, 6);
    expect(detectionTimeMs(0.999, 0.1, H, 14.4)).toBeCloseTo(518_400, 6);
    expect(detectionTimeMs(0.999, 0.01, H, 14.4)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a full outage fires each row at the formula\'s time (to the second), the long window being the slower', () => {
    const outage = [{ start: T0, end: Number.POSITIVE_INFINITY, ratio: 1 }];
    WORKBOOK_BURN_RATE_ALERTS.forEach((s, row) => {
      const expected = Math.ceil(detectionTimeMs(0.999, 1, s.longWindowMs, s.burnRate) / S) * S;
      expect(firstFiring(row, outage, T0, 10 * M)).toBe(T0 + expected);
    });
  });

  it('a 10 % error ratio pages on the fast row after 8 min 38.4 s', () => {
    const spell = [{ start: T0, end: Number.POSITIVE_INFINITY, ratio: 0.1 }];
    expect(firstFiring(0, spell, T0, H)).toBe(T0 + Math.ceil(detectionTimeMs(0.999, 0.1, H, 14.4) / S) * S);
  });

  it('a 1 % error ratio never trips the fast row (the window fills first) but the 6 h row does', () => {
    const spell = [{ start: T0 - D, end: Number.POSITIVE_INFINITY, ratio: 0.01 }];
    expect(evaluateBurnRate(0.999, sourceAt(T0, spell)).alerts.map((a) => a.firing)).toEqual([false, true, true]);
  });
});

describe('reset: the short window clears the alert soon after the errors stop', () => {
  const T0 = Date.UTC(2026, 0, 10);
  const END = T0 + 5 * M;
  const fiveMinuteOutage = [{ start: T0, end: END, ratio: 1 }];

  it('a 5-minute full outage fires all three rows (it spends 11.6 % of a 30-day 99.9 % budget)', () => {
    expect(evaluateBurnRate(0.999, sourceAt(END, fiveMinuteOutage)).alerts.map((a) => a.firing)).toEqual([true, true, true]);
  });

  it('the fast page clears once the last 5 minutes hold under 4.32 s of errors, long before the hour rolls off', () => {
    // The 5 m window reaches 14.4 * 0.001 * 5 min = 4.32 s of errors until END + 5 min - 4.32 s.
    expect(firstClear(0, fiveMinuteOutage, END, H)).toBe(END + 5 * M - 4 * S);
    expect(evaluateBurnRate(0.999, sourceAt(END + 5 * M, fiveMinuteOutage)).alerts[0]!.long.burnRate).toBeGreaterThan(14.4);
  });

  it('the 6 h page clears after 30 min minus 10.8 s; the ticket after 6 h minus 21.6 s', () => {
    expect(firstClear(1, fiveMinuteOutage, END, H)).toBe(END + 30 * M - 10 * S);
    expect(firstClear(2, fiveMinuteOutage, END + 5 * H, 2 * H)).toBe(END + 6 * H - 21 * S);
  });

  it('a 30-second full outage alerts nobody: 30 s in an hour is a burn rate of 8.3', () => {
    const spike = [{ start: T0, end: T0 + 30 * S, ratio: 1 }];
    expect(firstFiring(0, spike, T0, H)).toBeNull();
    expect(firstFiring(1, spike, T0, H)).toBeNull();
    expect(firstFiring(2, spike, T0, 10 * M)).toBeNull();
  });
});
