import { describe, expect, it } from 'vitest';
import { parallel, series } from './compose.js';
import { downtimeFor, MONTH_MS, WEEK_MS, YEAR_MS } from './budget.js';
import { formatDuration, formatPercent, percentDigits } from './format.js';

describe('series and parallel', () => {
  it('three 0.999 in series = 0.997002999 → 99.7003%', () => {
    const a = series([0.999, 0.999, 0.999]);
    expect(a).toBeCloseTo(0.997002999, 15);
    expect(formatPercent(a)).toBe('99.7003%');
  });

  it('two 0.999 in parallel = 0.999999 → 99.9999%', () => {
    const a = parallel([0.999, 0.999]);
    expect(a).toBeCloseTo(0.999999, 15);
    expect(formatPercent(a)).toBe('99.9999%');
  });

  it('empty compositions: series of nothing is always up, parallel of nothing is never up', () => {
    expect(series([])).toBe(1);
    expect(parallel([])).toBe(0);
  });
});

describe('downtime budgets (convention: a year is 365 days, a month 1/12 of it, a week 7 days)', () => {
  it('99.9% allows 8.76 h a year, 43.8 min a month, 10.08 min a week', () => {
    const d = downtimeFor(0.999);
    expect(YEAR_MS).toBe(365 * 86_400_000);
    expect(MONTH_MS).toBe(YEAR_MS / 12);
    expect(WEEK_MS).toBe(7 * 86_400_000);
    expect(d.yearMs).toBeCloseTo(8.76 * 3_600_000, 3);
    expect(d.monthMs).toBeCloseTo(43.8 * 60_000, 3);
    expect(d.weekMs).toBeCloseTo(604_800, 3);
    expect(formatDuration(d.yearMs)).toBe('8.76h');
    expect(formatDuration(d.monthMs)).toBe('43.8m');
    expect(formatDuration(d.weekMs)).toBe('10.1m');
  });

  it('100% allows nothing', () => {
    expect(downtimeFor(1)).toEqual({ yearMs: 0, monthMs: 0, weekMs: 0 });
  });
});

describe('formatting', () => {
  it('formats durations in the largest fitting unit with three significant digits', () => {
    expect(formatDuration(52_600)).toBe('52.6s');
    expect(formatDuration(30 * 60_000)).toBe('30m');
    expect(formatDuration(4 * 3_600_000)).toBe('4h');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(59_999)).toBe('1m');
    expect(formatDuration(0.01 * YEAR_MS)).toBe('3.65d');
  });

  it('never prints a value below 1 as 100%', () => {
    expect(formatPercent(0.99999999)).toBe('99.999999%');
    expect(formatPercent(1)).toBe('100.0000%');
  });

  it('finds the fewest decimals that show a target exactly', () => {
    expect(percentDigits(0.999)).toBe(1);
    expect(percentDigits(0.9995)).toBe(2);
    expect(percentDigits(0.99)).toBe(0);
    expect(formatPercent(0.9999, percentDigits(0.9999))).toBe('99.99%');
  });
});
