import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { applyRetention, formatDuration, type RetentionOptions, type RetentionPolicy } from './index.js';

const DAY = 86_400_000;
const NOW = new Date('2030-01-01T00:00:00Z');

interface Snap {
  id: string;
  time: Date;
  host?: string;
}

const snaps = (rows: Array<[string, string]>): Snap[] => rows.map(([id, iso]) => ({ id, time: new Date(iso) }));

/** id → reasons for kept snapshots, and the removed ids, both newest first. */
function run(list: Snap[], policy: RetentionPolicy, options: Partial<RetentionOptions> = {}) {
  const r = applyRetention(list, policy, { now: NOW, ...options });
  return { keep: Object.fromEntries(r.keep.map((k) => [k.snapshot.id, k.reasons])), keptIds: r.keep.map((k) => k.snapshot.id), remove: r.remove.map((s) => s.id) };
}

function usage(fn: () => unknown, message: RegExp): void {
  try {
    fn();
    expect.unreachable();
  } catch (err) {
    expect(err).toBeInstanceOf(BulwarkError);
    expect((err as BulwarkError).code).toBe('USAGE');
    expect((err as BulwarkError).message).toMatch(message);
    expect((err as BulwarkError).hint).toBeTruthy();
  }
}

describe('worked examples from docs/backup-retention.md', () => {
  it('example 1: keep_last 2, daily 3 — several snapshots a day, a day without any', () => {
    const list = snaps([
      ['g', '2025-03-05T10:00:00Z'],
      ['f', '2025-03-06T23:30:00Z'],
      ['e', '2025-03-07T12:00:00Z'],
      ['d', '2025-03-09T08:00:00Z'],
      ['c', '2025-03-09T21:00:00Z'],
      ['b', '2025-03-10T09:00:00Z'],
      ['a', '2025-03-10T18:00:00Z'],
    ]);
    const r = run(list, { keep_last: 2, daily: 3 });
    expect(r.keep).toEqual({ a: ['last 1/2', 'daily 1/3'], b: ['last 2/2'], c: ['daily 2/3'], e: ['daily 3/3'] });
    expect(r.keptIds).toEqual(['a', 'b', 'c', 'e']);
    expect(r.remove).toEqual(['d', 'f', 'g']);
  });

  it('example 2: weekly 3, monthly 2 — ISO weeks across the new year', () => {
    const list = snaps([
      ['s1', '2021-01-05T10:00:00Z'],
      ['s2', '2021-01-04T02:00:00Z'],
      ['s3', '2021-01-03T12:00:00Z'],
      ['s4', '2020-12-31T12:00:00Z'],
      ['s5', '2020-12-28T12:00:00Z'],
      ['s6', '2020-12-27T12:00:00Z'],
      ['s7', '2020-11-30T12:00:00Z'],
    ]);
    const r = run(list, { weekly: 3, monthly: 2 });
    expect(r.keep).toEqual({ s1: ['weekly 1/3', 'monthly 1/2'], s3: ['weekly 2/3'], s4: ['monthly 2/2'], s6: ['weekly 3/3'] });
    expect(r.remove).toEqual(['s2', 's5', 's7']);
  });

  it('example 3: daily 2 — the time zone decides which day a snapshot is in', () => {
    const list = snaps([
      ['p', '2025-03-10T03:00:00Z'],
      ['q', '2025-03-10T01:00:00Z'],
      ['r', '2025-03-09T12:00:00Z'],
      ['s', '2025-03-08T12:00:00Z'],
    ]);
    expect(run(list, { daily: 2 })).toMatchObject({ keep: { p: ['daily 1/2'], r: ['daily 2/2'] }, remove: ['q', 's'] });
    expect(run(list, { daily: 2 }, { timeZone: 'America/New_York' })).toMatchObject({
      keep: { p: ['daily 1/2'], s: ['daily 2/2'] },
      remove: ['q', 'r'],
    });
  });

  it('example 4: keep_within 7d, monthly 3 — a future snapshot, the exact boundary, and the oldest rule', () => {
    const list = snaps([
      ['x', '2025-06-25T00:00:00Z'],
      ['y', '2025-06-20T06:00:00Z'],
      ['z', '2025-06-13T06:00:00Z'],
      ['w', '2025-06-13T05:59:59Z'],
      ['v', '2025-05-31T12:00:00Z'],
      ['u', '2025-05-02T12:00:00Z'],
    ]);
    const r = run(list, { keep_within: 7 * DAY, monthly: 3 }, { now: new Date('2025-06-20T12:00:00Z') });
    expect(r.keep).toEqual({
      x: ['monthly 1/3', 'within 7d'],
      y: ['within 7d'],
      z: ['within 7d'],
      v: ['monthly 2/3'],
      u: ['oldest monthly 3/3'],
    });
    expect(r.remove).toEqual(['w']);
  });
});

describe('calendar buckets', () => {
  it('split days and months at midnight UTC, and years at New Year', () => {
    const list = snaps([
      ['feb1', '2025-02-01T00:00:00Z'],
      ['jan31', '2025-01-31T23:59:59Z'],
      ['jan1', '2025-01-01T00:00:00Z'],
      ['dec31', '2024-12-31T23:59:59Z'],
      ['dec1', '2024-12-01T00:00:00Z'],
    ]);
    expect(run(list, { daily: 3 }).keptIds).toEqual(['feb1', 'jan31', 'jan1']);
    expect(run(list, { monthly: 2 }).keptIds).toEqual(['feb1', 'jan31']);
    expect(run(list, { yearly: 2 }).keep).toEqual({ feb1: ['yearly 1/2'], dec31: ['yearly 2/2'] });
    expect(run(list, { hourly: 10 }).keptIds).toEqual(['feb1', 'jan31', 'jan1', 'dec31', 'dec1']);
  });

  it('count only buckets that have snapshots', () => {
    const list = snaps([
      ['now', '2025-07-01T10:00:00Z'],
      ['lastYear', '2024-03-01T10:00:00Z'],
      ['longAgo', '2019-03-01T10:00:00Z'],
      ['older', '2019-01-01T10:00:00Z'],
    ]);
    expect(run(list, { monthly: 3 }).keep).toEqual({ now: ['monthly 1/3'], lastYear: ['monthly 2/3'], longAgo: ['monthly 3/3'] });
  });

  it('weekly follows ISO weeks in the given zone', () => {
    // Sunday evening in New York is already Monday in UTC.
    const list = snaps([
      ['tue', '2025-01-07T15:00:00Z'],
      ['sunEvening', '2025-01-06T04:30:00Z'],
      ['sat', '2025-01-04T15:00:00Z'],
    ]);
    expect(run(list, { weekly: 2 }).keep).toEqual({ tue: ['weekly 1/2'], sat: ['weekly 2/2'] });
    expect(run(list, { weekly: 2 }, { timeZone: 'America/New_York' }).keep).toEqual({ tue: ['weekly 1/2'], sunEvening: ['weekly 2/2'] });
  });

  it('hourly across a DST fall-back night: the repeated local hour is one bucket', () => {
    const list = snaps([
      ['0230est', '2024-11-03T07:30:00Z'],
      ['0130est', '2024-11-03T06:30:00Z'],
      ['0130edt', '2024-11-03T05:30:00Z'],
      ['dayBefore', '2024-11-02T12:00:00Z'],
    ]);
    expect(run(list, { hourly: 3 }).keptIds).toEqual(['0230est', '0130est', '0130edt']);
    expect(run(list, { hourly: 3 }, { timeZone: 'America/New_York' })).toMatchObject({
      keep: { '0230est': ['hourly 1/3'], '0130est': ['hourly 2/3'], dayBefore: ['hourly 3/3'] },
      remove: ['0130edt'],
    });
  });

  it('daily across a DST spring-forward day in Europe/Berlin (a 23-hour day)', () => {
    const list = snaps([
      ['31-2359cest', '2024-03-31T21:59:00Z'],
      ['31-0030cet', '2024-03-30T23:30:00Z'],
      ['30-2359cet', '2024-03-30T22:59:00Z'],
      ['29-noon', '2024-03-29T12:00:00Z'],
    ]);
    expect(run(list, { daily: 3 }, { timeZone: 'Europe/Berlin' })).toMatchObject({
      keep: { '31-2359cest': ['daily 1/3'], '30-2359cet': ['daily 2/3'], '29-noon': ['daily 3/3'] },
      remove: ['31-0030cet'],
    });
    // In UTC the 00:30 CET snapshot is still on the 30th.
    expect(run(list, { daily: 3 })).toMatchObject({
      keep: { '31-2359cest': ['daily 1/3'], '31-0030cet': ['daily 2/3'], '29-noon': ['daily 3/3'] },
      remove: ['30-2359cet'],
    });
  });
});

describe('keep_within', () => {
  const list = snaps([
    ['newest', '2025-06-20T06:00:00Z'],
    ['edge', '2025-06-19T06:00:00Z'],
    ['past', '2025-06-19T05:59:59.999Z'],
  ]);

  it('measures from the newest snapshot, not from now, and includes the exact boundary', () => {
    const r = run(list, { keep_within: DAY }, { now: new Date('2026-01-01T00:00:00Z') });
    expect(r.keep).toEqual({ newest: ['within 1d'], edge: ['within 1d'] });
    expect(r.remove).toEqual(['past']);
  });

  it('ignores future snapshots when finding the newest, and keeps them', () => {
    const withFuture = [...list, { id: 'future', time: new Date('2025-07-01T00:00:00Z') }];
    const r = run(withFuture, { keep_within: DAY }, { now: new Date('2025-06-21T00:00:00Z') });
    expect(r.keptIds).toEqual(['future', 'newest', 'edge']);
  });

  it('keeps everything when every snapshot is in the future', () => {
    expect(run(list, { keep_within: 1 }, { now: new Date('2020-01-01T00:00:00Z') }).remove).toEqual([]);
  });
});

describe('applyRetention', () => {
  it('sorts newest first, breaks time ties by input order, and leaves the input alone', () => {
    const list: Snap[] = [
      { id: 'old', time: new Date('2025-01-01T00:00:00Z'), host: 'db1' },
      { id: 'tieA', time: new Date('2025-01-02T00:00:00Z') },
      { id: 'tieB', time: new Date('2025-01-02T00:00:00Z') },
    ];
    const copy = [...list];
    const r = applyRetention(list, { keep_last: 1 }, { now: NOW });
    expect(r.keep.map((k) => k.snapshot.id)).toEqual(['tieA']);
    expect(r.remove.map((s) => s.id)).toEqual(['tieB', 'old']);
    expect(r.remove[1]).toBe(list[0]);
    expect(list).toEqual(copy);
  });

  it('keeps all when keep_last exceeds the count, and handles an empty list', () => {
    const list = snaps([['a', '2025-01-01T00:00:00Z'], ['b', '2025-01-02T00:00:00Z']]);
    expect(run(list, { keep_last: 5 }).keep).toEqual({ b: ['last 1/5'], a: ['last 2/5'] });
    expect(applyRetention([], { daily: 7 }, { now: NOW })).toEqual({ keep: [], remove: [] });
  });

  it('a rule set to 0 is off', () => {
    const list = snaps([['a', '2025-01-01T00:00:00Z'], ['b', '2025-01-02T00:00:00Z']]);
    expect(run(list, { keep_last: 1, daily: 0 }).keep).toEqual({ b: ['last 1/1'] });
  });

  it('refuses an empty policy', () => {
    usage(() => applyRetention([], {}, { now: NOW }), /^no retention rule given$/);
    usage(() => applyRetention([], { keep_last: 0, daily: 0, keep_within: 0 }, { now: NOW }), /^no retention rule given$/);
  });

  it.each<[unknown, RegExp]>([
    [{ daily: -1 }, /daily must be a whole number >= 0, got -1/],
    [{ weekly: 1.5 }, /weekly must be a whole number/],
    [{ monthly: '3' }, /monthly must be a whole number/],
    [{ keep_within: Number.POSITIVE_INFINITY }, /keep_within must be a duration/],
    [{ keep_daily: 7 }, /unknown retention rule "keep_daily"/],
  ])('refuses the malformed policy %o', (policy, message) => {
    usage(() => applyRetention([], policy as RetentionPolicy, { now: NOW }), message);
  });

  it('refuses an unknown zone and invalid dates', () => {
    usage(() => applyRetention([], { daily: 1 }, { now: NOW, timeZone: 'Nowhere/Null' }), /unknown time zone/);
    usage(() => applyRetention([], { daily: 1 }, { now: new Date('nope') }), /now is not a valid date/);
    usage(() => applyRetention([{ id: 'x', time: new Date(Number.NaN) }], { daily: 1 }, { now: NOW }), /snapshot x time/);
  });
});

describe('formatDuration', () => {
  it.each([
    [7 * DAY, '7d'],
    [36 * 3_600_000, '1d12h'],
    [90 * 60_000, '1h30m'],
    [1500, '1s500ms'],
    [0, '0ms'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
