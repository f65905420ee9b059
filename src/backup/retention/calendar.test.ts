import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { bucketOf, calendarFields, isoWeek } from './calendar.js';

describe('isoWeek', () => {
  it.each([
    ['2020-12-28', 2020, 53],
    ['2020-12-31', 2020, 53],
    ['2021-01-03', 2020, 53],
    ['2021-01-04', 2021, 1],
    ['2024-12-29', 2024, 52],
    ['2024-12-30', 2025, 1],
    ['2026-01-01', 2026, 1],
    ['2027-01-01', 2026, 53],
    ['2027-01-04', 2027, 1],
    ['2024-02-29', 2024, 9],
  ])('%s is %i-W%i', (date, isoYear, week) => {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    expect(isoWeek(y, m, d)).toEqual({ isoYear, week });
  });
});

describe('calendarFields', () => {
  it('reads UTC fields directly', () => {
    expect(calendarFields(new Date('2024-12-31T23:59:59Z'), 'UTC')).toEqual({ year: 2024, month: 12, day: 31, hour: 23 });
  });

  it('reads wall-clock fields in an IANA zone, including half-hour offsets and midnight', () => {
    expect(calendarFields(new Date('2024-12-31T23:30:00Z'), 'Asia/Kolkata')).toEqual({ year: 2025, month: 1, day: 1, hour: 5 });
    expect(calendarFields(new Date('2025-01-01T05:00:00Z'), 'America/New_York')).toEqual({ year: 2025, month: 1, day: 1, hour: 0 });
    expect(calendarFields(new Date('2025-01-01T04:59:00Z'), 'America/New_York')).toEqual({ year: 2024, month: 12, day: 31, hour: 23 });
  });

  it('puts both 01:xx hours of a DST fall-back night in the same hourly bucket', () => {
    const edt = calendarFields(new Date('2024-11-03T05:30:00Z'), 'America/New_York');
    const est = calendarFields(new Date('2024-11-03T06:30:00Z'), 'America/New_York');
    expect(edt.hour).toBe(1);
    expect(bucketOf('hourly', edt)).toBe(bucketOf('hourly', est));
  });

  it('refuses an unknown zone with USAGE', () => {
    try {
      calendarFields(new Date(), 'Mars/Olympus_Mons');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BulwarkError);
      expect((err as BulwarkError).code).toBe('USAGE');
      expect((err as BulwarkError).message).toMatch(/unknown time zone "Mars\/Olympus_Mons"/);
    }
  });
});

describe('bucketOf', () => {
  const f = { year: 2025, month: 3, day: 7, hour: 9 };
  it('encodes each calendar unit as a number', () => {
    expect(bucketOf('hourly', f)).toBe(2025030709);
    expect(bucketOf('daily', f)).toBe(20250307);
    expect(bucketOf('weekly', f)).toBe(202510);
    expect(bucketOf('monthly', f)).toBe(202503);
    expect(bucketOf('yearly', f)).toBe(2025);
  });
});
