import { describe, expect, it } from 'vitest';
import { applyMaintenance, buildTimeline, downtimePeriods, mergeRanges } from './timeline.js';

const H = 3_600_000;
const T = Date.UTC(2024, 0, 2);
const W = { start: T, end: T + 24 * H };

describe('buildTimeline', () => {
  it('starts from the last change before the window and covers it exactly', () => {
    const timeline = buildTimeline(
      [{ at: T + 10 * H, to: 'down' }, { at: T - H, to: 'up' }, { at: T + 11 * H, to: 'up' }, { at: T + 30 * H, to: 'down' }],
      W,
    );
    expect(timeline).toEqual([
      { start: T, end: T + 10 * H, status: 'up' },
      { start: T + 10 * H, end: T + 11 * H, status: 'down' },
      { start: T + 11 * H, end: T + 24 * H, status: 'up' },
    ]);
  });

  it('opens unknown without an earlier change, merges repeats, maps other statuses to unknown', () => {
    const timeline = buildTimeline(
      [{ at: T + 2 * H, to: 'up' }, { at: T + 3 * H, to: 'up' }, { at: T + 4 * H, to: 'pending' }, { at: T + 5 * H, to: 'unknown' }],
      W,
    );
    expect(timeline).toEqual([
      { start: T, end: T + 2 * H, status: 'unknown' },
      { start: T + 2 * H, end: T + 4 * H, status: 'up' },
      { start: T + 4 * H, end: T + 24 * H, status: 'unknown' },
    ]);
  });

  it('takes a change exactly at the start as the opening state', () => {
    expect(buildTimeline([{ at: T - H, to: 'up' }, { at: T, to: 'down' }], W)).toEqual([{ start: T, end: T + 24 * H, status: 'down' }]);
  });
});

describe('downtimePeriods', () => {
  it('clips an outage that began before the window and leaves an ongoing one open', () => {
    const timeline = buildTimeline([{ at: T - 2 * H, to: 'down' }, { at: T + H, to: 'up' }, { at: T + 23 * H, to: 'down' }], W);
    expect(downtimePeriods(timeline)).toEqual([
      { start: T, end: T + H, durationMs: H },
      { start: T + 23 * H, end: null, durationMs: H },
    ]);
  });
});

describe('maintenance on a timeline', () => {
  it('merges and clips ranges', () => {
    expect(mergeRanges([{ start: 5, end: 9 }, { start: 0, end: 3 }, { start: 2, end: 6 }, { start: 20, end: 30 }], { start: 1, end: 25 }))
      .toEqual([{ start: 1, end: 9 }, { start: 20, end: 25 }]);
  });

  it('replaces whatever status with maintenance inside the ranges', () => {
    const timeline = buildTimeline([{ at: T - H, to: 'up' }, { at: T + 10 * H, to: 'down' }, { at: T + 12 * H, to: 'up' }], W);
    const marked = applyMaintenance(timeline, [{ start: T + 11 * H, end: T + 13 * H }, { start: T - 5 * H, end: T + H }]);
    expect(marked).toEqual([
      { start: T, end: T + H, status: 'maintenance' },
      { start: T + H, end: T + 10 * H, status: 'up' },
      { start: T + 10 * H, end: T + 11 * H, status: 'down' },
      { start: T + 11 * H, end: T + 13 * H, status: 'maintenance' },
      { start: T + 13 * H, end: T + 24 * H, status: 'up' },
    ]);
  });
});
