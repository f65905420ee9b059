import type { OnCallScheduleConfig } from '../config/index.js';

/**
 * Who is on call: `people` in turn, one shift each, the first starting at the
 * first `handoff` at or after `start`. Shifts are counted in the schedule's
 * wall-clock time, so a "monday 09:00" hand-off stays at 09:00 local time across
 * a daylight-saving change (that week's shift is 167 or 169 hours long). Before
 * `start` the rotation is carried backwards, so somebody is always on call.
 * An override wins over the rotation for its span; of overlapping ones, the last
 * listed.
 */

export interface OnCallShift {
  person: string;
  shiftStart: number;
  shiftEnd: number;
  override: boolean;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The wall-clock time in `timeZone` at `instant`, as epoch ms of that same
 * reading in UTC ("wall ms"): arithmetic on it is arithmetic on the local clock.
 */
export function toWallMs(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return wall + (((instant % 1000) + 1000) % 1000);
}

/**
 * The instant at which the clock in `timeZone` reads `wall`. A reading that
 * happens twice (clocks going back) is the first; one that never happens
 * (clocks going forward) is taken with the offset from before the change,
 * landing as far past the gap as it was into it (02:30 → 03:30).
 */
export function fromWallMs(wall: number, timeZone: string): number {
  const offsetBefore = toWallMs(wall - DAY_MS, timeZone) - (wall - DAY_MS);
  const offsetAfter = toWallMs(wall + DAY_MS, timeZone) - (wall + DAY_MS);
  const candidates = [wall - offsetBefore, wall - offsetAfter].filter((t) => toWallMs(t, timeZone) === wall);
  return candidates.length > 0 ? Math.min(...candidates) : wall - offsetBefore;
}

interface Handoff {
  /** 0 = monday; null for a daily hand-off. */
  weekday: number | null;
  minuteOfDay: number;
}

function parseHandoff(text: string): Handoff {
  const match = /^(?:([a-z]+) )?(\d{2}):(\d{2})$/.exec(text.trim().toLowerCase());
  if (!match) throw new Error(`invalid hand-off time: ${text}`);
  const weekday = match[1] === undefined ? null : WEEKDAYS.indexOf(match[1]);
  if (weekday === -1) throw new Error(`invalid hand-off day: ${match[1]}`);
  return { weekday, minuteOfDay: Number(match[2]) * 60 + Number(match[3]) };
}

/** Monday 0 … Sunday 6 of a wall ms. */
function weekdayOf(wall: number): number {
  return (new Date(wall).getUTCDay() + 6) % 7;
}

/** The wall time of the first hand-off at or after the instant `start`. */
function firstHandoffWall(handoff: Handoff, start: number, timeZone: string): number {
  const startWall = toWallMs(start, timeZone);
  const midnight = Math.floor(startWall / DAY_MS) * DAY_MS;
  const daysAhead = handoff.weekday === null ? 0 : (handoff.weekday - weekdayOf(startWall) + 7) % 7;
  const step = handoff.weekday === null ? DAY_MS : 7 * DAY_MS;
  let wall = midnight + daysAhead * DAY_MS + handoff.minuteOfDay * MINUTE_MS;
  while (fromWallMs(wall, timeZone) < start) wall += step;
  return wall;
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}

function rotationShift(schedule: OnCallScheduleConfig, at: number): OnCallShift {
  const zone = schedule.time_zone;
  const firstWall = firstHandoffWall(parseHandoff(schedule.handoff), Date.parse(schedule.start), zone);
  const rotation = schedule.rotation;
  if (!(rotation > 0)) throw new Error(`a rotation must be longer than 0 ms, got ${rotation}`);
  const boundary = (k: number): number => fromWallMs(firstWall + k * rotation, zone);
  let k = Math.floor((toWallMs(at, zone) - firstWall) / rotation);
  while (boundary(k) > at) k--;
  while (boundary(k + 1) <= at) k++;
  return { person: schedule.people[mod(k, schedule.people.length)]!, shiftStart: boundary(k), shiftEnd: boundary(k + 1), override: false };
}

function activeOverride(schedule: OnCallScheduleConfig, at: number): OnCallShift | null {
  for (let i = schedule.overrides.length - 1; i >= 0; i--) {
    const o = schedule.overrides[i]!;
    const from = Date.parse(o.from);
    const until = Date.parse(o.until);
    if (from <= at && at < until) return { person: o.person, shiftStart: from, shiftEnd: until, override: true };
  }
  return null;
}

/** Who is on call at the instant `at` (epoch ms), and the span of that shift or override. */
export function whoIsOnCall(schedule: OnCallScheduleConfig, at: number): OnCallShift {
  return activeOverride(schedule, at) ?? rotationShift(schedule, at);
}
