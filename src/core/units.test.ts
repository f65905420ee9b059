import { describe, expect, it } from 'vitest';
import { formatDurationShort, parseDuration, parsePercent, parseSize } from './units.js';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each<[unknown, number]>([
    ['30s', 30 * S],
    ['30 seconds', 30 * S],
    ['1 second', S],
    ['2 minutes', 2 * M],
    ['2m', 2 * M],
    ['5 min', 5 * M],
    ['4h', 4 * H],
    ['4 hours', 4 * H],
    ['1d', D],
    ['7 days', 7 * D],
    ['1w', 7 * D],
    ['1h30m', H + 30 * M],
    ['1h 30m', H + 30 * M],
    ['1d2h3m4s5ms', D + 2 * H + 3 * M + 4 * S + 5],
    ['500ms', 500],
    ['1.5h', 1.5 * H],
    ['0.5s', 500],
    ['  30S  ', 30 * S],
    ['0', 0],
    [0, 0],
    ['0s', 0],
  ])('%j → %d ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ ok: true, value: ms });
  });

  it.each<unknown>([
    '5', 'x', '-1s', '10 parsecs', '', ' ', 's', '1h30', '1.s', '1,5h', 'h1', '30s later', '1e3s',
    5, 30, -1, 1.5, Number.NaN, null, undefined, true, [], {}, ['30s'],
  ])('rejects %j', (input) => {
    const result = parseDuration(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.expected).toContain('duration');
  });
});

describe('parsePercent', () => {
  it.each<[string, number]>([
    ['99.95%', 0.9995],
    ['100%', 1],
    ['99.9%', 0.999],
    ['50%', 0.5],
    [' 34 % ', 0.34],
    ['0.001%', 0.00001],
  ])('%j → %d', (input, ratio) => {
    const result = parsePercent(input);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value).toBeCloseTo(ratio, 12);
  });

  it.each<unknown>(['101%', '100.01%', '0%', '0.0%', '99.9', '-5%', '%', '99.9 percent', '', 99.9, 0.999, 1, null, undefined])(
    'rejects %j',
    (input) => {
      const result = parsePercent(input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.expected).toContain('percentage');
    },
  );

  it('allows 0% only when asked', () => {
    expect(parsePercent('0%').ok).toBe(false);
    expect(parsePercent('0%', { allowZero: true })).toEqual({ ok: true, value: 0 });
  });
});

describe('parseSize', () => {
  it.each<[unknown, number]>([
    ['1MB', 1_000_000],
    ['1mb', 1_000_000],
    ['512KiB', 524_288],
    ['1.5GiB', 1_610_612_736],
    ['16MiB', 16 * 1024 ** 2],
    ['1GB', 1e9],
    ['2TiB', 2 * 1024 ** 4],
    ['10 KB', 10_000],
    ['4096', 4096],
    ['4096B', 4096],
    [4096, 4096],
    [0, 0],
    ['8k', 8192],
  ])('%j → %d bytes', (input, bytes) => {
    expect(parseSize(input)).toEqual({ ok: true, value: bytes });
  });

  it.each<unknown>(['10XB', '-1', -1, 1.5, '', 'MB', '1 MB extra', '1e6', Number.NaN, null, undefined, true, {}])('rejects %j', (input) => {
    const result = parseSize(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.expected).toContain('size');
  });
});

describe('formatDurationShort', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [500, '500ms'],
    [30 * S, '30s'],
    [H + 30 * M, '1h30m'],
    [D + 2 * H + 5, '1d2h5ms'],
  ])('%d → %s', (ms, text) => {
    expect(formatDurationShort(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 61 * S, 25 * H + 1, 3 * D + 4 * M]) {
      expect(parseDuration(formatDurationShort(ms))).toEqual({ ok: true, value: ms });
    }
  });
});
