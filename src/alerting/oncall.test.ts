import { describe, expect, it } from 'vitest';
import type { OnCallScheduleConfig } from '../config/index.js';
import { fromWallMs, toWallMs, whoIsOnCall } from './oncall.js';

const H = 3_600_000;
const D = 24 * H;
const BERLIN = 'Europe/Berlin';

function schedule(o: Partial<OnCallScheduleConfig>): OnCallScheduleConfig {
  return { time_zone: 'UTC', people: ['alice', 'bob', 'carol'], rotation: 7 * D, handoff: 'monday 09:00', start: '2024-01-01T00:00:00Z', overrides: [], ...o };
}

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('wall-clock conversion', () => {
  it('reads the local clock in a time zone, summer and winter', () => {
    expect(iso(toWallMs(at('2026-01-15T08:00:00Z'), BERLIN))).toBe('2026-01-15T09:00:00.000Z');
    expect(iso(toWallMs(at('2026-07-15T07:00:00Z'), BERLIN))).toBe('2026-07-15T09:00:00.000Z');
  });

  it('maps a wall time back; a skipped one moves past the gap, a repeated one is the first', () => {
    expect(iso(fromWallMs(at('2026-03-30T09:00:00Z'), BERLIN))).toBe('2026-03-30T07:00:00.000Z');
    expect(iso(fromWallMs(at('2026-03-29T02:30:00Z'), BERLIN))).toBe('2026-03-29T01:30:00.000Z'); // 03:30 CEST
    expect(iso(fromWallMs(at('2026-10-25T02:30:00Z'), BERLIN))).toBe('2026-10-25T00:30:00.000Z'); // the first 02:30, CEST
  });
});

describe('whoIsOnCall: weekly rotation', () => {
  const weekly = schedule({ time_zone: BERLIN, start: '2026-03-01T00:00:00+01:00' });

  it('starts with the first person at the first hand-off at or after start', () => {
    // 2026-03-01 is a Sunday: the first Monday 09:00 is 2026-03-02 09:00 CET.
    expect(whoIsOnCall(weekly, at('2026-03-02T08:00:00Z'))).toEqual({
      person: 'alice', shiftStart: at('2026-03-02T08:00:00Z'), shiftEnd: at('2026-03-09T08:00:00Z'), override: false,
    });
    expect(whoIsOnCall(weekly, at('2026-03-09T07:59:59.999Z')).person).toBe('alice');
    expect(whoIsOnCall(weekly, at('2026-03-09T08:00:00Z')).person).toBe('bob');
    expect(whoIsOnCall(weekly, at('2026-03-16T08:00:00Z')).person).toBe('carol');
    expect(whoIsOnCall(weekly, at('2026-03-23T08:00:00Z')).person).toBe('alice');
  });

  it('keeps 09:00 local across the spring change (2026-03-29): that shift is 167 hours', () => {
    const shift = whoIsOnCall(weekly, at('2026-03-29T12:00:00Z'));
    expect(shift).toMatchObject({ person: 'alice', shiftStart: at('2026-03-23T08:00:00Z'), shiftEnd: at('2026-03-30T07:00:00Z') });
    expect((shift.shiftEnd - shift.shiftStart) / H).toBe(167);
    expect(whoIsOnCall(weekly, at('2026-03-30T06:59:59Z')).person).toBe('alice');
    expect(whoIsOnCall(weekly, at('2026-03-30T07:00:00Z'))).toMatchObject({ person: 'bob', shiftStart: at('2026-03-30T07:00:00Z'), shiftEnd: at('2026-04-06T07:00:00Z') });
  });

  it('keeps 09:00 local across the autumn change (2026-10-25): that shift is 169 hours', () => {
    const shift = whoIsOnCall(weekly, at('2026-10-22T12:00:00Z'));
    expect(shift.shiftStart).toBe(at('2026-10-19T07:00:00Z'));
    expect(shift.shiftEnd).toBe(at('2026-10-26T08:00:00Z'));
    expect((shift.shiftEnd - shift.shiftStart) / H).toBe(169);
    const next = whoIsOnCall(weekly, at('2026-10-26T08:00:00Z'));
    expect(next.shiftStart).toBe(at('2026-10-26T08:00:00Z'));
    expect(next.person).not.toBe(shift.person);
  });

  it('counts whole weeks from the start: 33 weeks after 2026-03-02 is person 33 mod 3', () => {
    expect(whoIsOnCall(weekly, at('2026-10-19T07:00:00Z')).person).toBe('alice'); // week 33
    expect(whoIsOnCall(weekly, at('2026-10-26T08:00:00Z')).person).toBe('bob');
  });

  it('before start, carries the rotation backwards: the week before belongs to the last person', () => {
    expect(whoIsOnCall(weekly, at('2026-03-01T12:00:00Z'))).toEqual({
      person: 'carol', shiftStart: at('2026-02-23T08:00:00Z'), shiftEnd: at('2026-03-02T08:00:00Z'), override: false,
    });
    expect(whoIsOnCall(weekly, at('2026-02-20T12:00:00Z')).person).toBe('bob');
  });

  it('a start exactly at a hand-off begins there', () => {
    const exact = schedule({ time_zone: BERLIN, start: '2026-03-02T09:00:00+01:00' });
    expect(whoIsOnCall(exact, at('2026-03-02T08:00:00Z'))).toMatchObject({ person: 'alice', shiftStart: at('2026-03-02T08:00:00Z') });
  });
});

describe('whoIsOnCall: daily rotation', () => {
  const daily = schedule({ time_zone: BERLIN, people: ['alice', 'bob'], rotation: D, handoff: '08:30', start: '2026-03-27T12:00:00+01:00' });

  it('hands off every day at 08:30 local, 23 hours on the spring day and 25 on the autumn one', () => {
    expect(whoIsOnCall(daily, at('2026-03-28T07:30:00Z'))).toMatchObject({ person: 'alice', shiftStart: at('2026-03-28T07:30:00Z'), shiftEnd: at('2026-03-29T06:30:00Z') });
    expect(whoIsOnCall(daily, at('2026-03-29T06:30:00Z'))).toMatchObject({ person: 'bob', shiftEnd: at('2026-03-30T06:30:00Z') });
    const autumn = whoIsOnCall(daily, at('2026-10-25T01:00:00Z'));
    expect(autumn.shiftStart).toBe(at('2026-10-24T06:30:00Z'));
    expect(autumn.shiftEnd).toBe(at('2026-10-25T07:30:00Z'));
    expect((autumn.shiftEnd - autumn.shiftStart) / H).toBe(25);
  });

  it('before the first hand-off (start is at noon, the first 08:30 is the next day) the previous person is on', () => {
    expect(whoIsOnCall(daily, at('2026-03-27T20:00:00Z'))).toMatchObject({ person: 'bob', shiftStart: at('2026-03-27T07:30:00Z'), shiftEnd: at('2026-03-28T07:30:00Z') });
  });

  it('rotates in UTC with no changes at all', () => {
    const utc = schedule({ rotation: D, handoff: '00:00', start: '2026-01-01T00:00:00Z' });
    expect(whoIsOnCall(utc, at('2026-01-01T00:00:00Z')).person).toBe('alice');
    expect(whoIsOnCall(utc, at('2026-01-02T23:59:59Z')).person).toBe('bob');
    expect(whoIsOnCall(utc, at('2026-01-03T00:00:00Z')).person).toBe('carol');
    expect(whoIsOnCall(utc, at('2026-12-31T12:00:00Z')).person).toBe(['alice', 'bob', 'carol'][364 % 3]);
  });

  it('a 12-hour rotation keeps 09:00 and 21:00 local', () => {
    const halfDay = schedule({ time_zone: BERLIN, rotation: 12 * H, handoff: '09:00', start: '2026-03-28T00:00:00+01:00' });
    expect(whoIsOnCall(halfDay, at('2026-03-29T12:00:00Z'))).toMatchObject({ shiftStart: at('2026-03-29T07:00:00Z'), shiftEnd: at('2026-03-29T19:00:00Z') });
  });
});

describe('whoIsOnCall: overrides', () => {
  const withOverrides = schedule({
    time_zone: BERLIN,
    start: '2026-03-01T00:00:00+01:00',
    overrides: [
      { person: 'dave', from: '2026-03-03T18:00:00+01:00', until: '2026-03-04T08:00:00+01:00' },
      { person: 'erin', from: '2026-03-04T00:00:00+01:00', until: '2026-03-04T06:00:00+01:00' },
    ],
  });

  it('wins over the rotation for its span, and the rotation resumes after it', () => {
    expect(whoIsOnCall(withOverrides, at('2026-03-03T16:59:59Z')).person).toBe('alice');
    expect(whoIsOnCall(withOverrides, at('2026-03-03T17:00:00Z'))).toEqual({
      person: 'dave', shiftStart: at('2026-03-03T17:00:00Z'), shiftEnd: at('2026-03-04T07:00:00Z'), override: true,
    });
    expect(whoIsOnCall(withOverrides, at('2026-03-04T07:00:00Z'))).toMatchObject({ person: 'alice', override: false });
  });

  it('of overlapping overrides, the last listed wins', () => {
    expect(whoIsOnCall(withOverrides, at('2026-03-04T01:00:00Z'))).toMatchObject({ person: 'erin', override: true });
    expect(whoIsOnCall(withOverrides, at('2026-03-04T05:00:00Z'))).toMatchObject({ person: 'dave', override: true });
  });
});
