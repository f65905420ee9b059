import { Cron } from 'croner';
import type { Parsed } from '../core/units.js';

/** A schedule as the user wrote it and as a cron expression with its time zone. */
export interface Schedule {
  text: string;
  cron: string;
  timezone: string;
  /**
   * `on change` (backup policies of files only): a run after the files change;
   * `cron` is then the daily run that catches what a file watch can miss.
   */
  onChange?: true;
}

/** The catch-up run of an `on change` schedule: once a day. */
export const ON_CHANGE_CATCH_UP = '0 3 * * *';

/** A backup policy's schedule: any schedule, or `on change` (`on every change`). */
export function parsePolicySchedule(input: unknown): Parsed<Schedule> {
  if (typeof input === 'string' && /^on (every )?changes?$/i.test(input.trim())) {
    return { ok: true, value: { text: input.trim(), cron: ON_CHANGE_CATCH_UP, timezone: 'UTC', onChange: true } };
  }
  const parsed = parseSchedule(input);
  return parsed.ok ? parsed : { ok: false, expected: `"on change" or ${parsed.expected}` };
}

export const SCHEDULE_EXPECTED =
  'a cron expression ("0 2 * * *"), @hourly/@daily/@weekly/@monthly, or a friendly form: ' +
  '"hourly", "daily", "weekly", "monthly", "every 15 minutes", "every 6 hours", ' +
  '"daily at 2:00 AM UTC", "weekly on sunday at 03:00", "monthly on day 1 at 02:00 Europe/Paris"';

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const ALIASES: Record<string, string> = {
  '@hourly': '0 * * * *', hourly: '0 * * * *',
  '@daily': '0 0 * * *', daily: '0 0 * * *', '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0', weekly: '0 0 * * 0',
  '@monthly': '0 0 1 * *', monthly: '0 0 1 * *',
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', yearly: '0 0 1 1 *',
  // The DR-testing vocabulary of the seeds (`frequency: quarterly`).
  quarterly: '0 0 1 1,4,7,10 *', 'semi-annually': '0 0 1 1,7 *', semiannually: '0 0 1 1,7 *', annually: '0 0 1 1 *',
};

/** Parse a schedule; the result is checked by croner, the same engine that runs it. */
export function parseSchedule(input: unknown): Parsed<Schedule> {
  const fail = { ok: false as const, expected: SCHEDULE_EXPECTED };
  if (typeof input !== 'string' || input.trim() === '') return fail;
  const text = input.trim();
  const { body, timezone } = splitTimezone(text);
  const cron = toCron(body.toLowerCase().replace(/\s+/g, ' '));
  if (cron === undefined || !isValidCron(cron, timezone)) return fail;
  return { ok: true, value: { text, cron, timezone } };
}

function splitTimezone(text: string): { body: string; timezone: string } {
  const match = /^(.*?)\s+(UTC|GMT|[A-Za-z]+\/[A-Za-z_]+(?:\/[A-Za-z_]+)?)$/.exec(text);
  if (match && !/^[\d*,/\-? ]+$/.test(text)) return { body: match[1] ?? '', timezone: normaliseZone(match[2] ?? 'UTC') };
  return { body: text, timezone: 'UTC' };
}

function normaliseZone(zone: string): string {
  return zone === 'GMT' ? 'UTC' : zone;
}

function toCron(body: string): string | undefined {
  const alias = ALIASES[body];
  if (alias) return alias;
  if (/^[\d*,/\-?a-z]+( [\d*,/\-?a-z]+){4,5}$/.test(body) && !/ at | on |every/.test(body)) return body;
  return everyInterval(body) ?? atTime(body);
}

function everyInterval(body: string): string | undefined {
  const match = /^every (\d+) (minute|minutes|min|hour|hours|h|m)$/.exec(body);
  if (!match) return undefined;
  const n = Number(match[1]);
  const minutes = match[2]?.startsWith('m');
  if (minutes) return n >= 1 && n < 60 && 60 % n === 0 ? `*/${n} * * * *` : undefined;
  return n >= 1 && n < 24 && 24 % n === 0 ? `0 */${n} * * *` : undefined;
}

function atTime(body: string): string | undefined {
  const match = /^(daily|weekly on ([a-z]+)|monthly on day (\d{1,2})) at (\d{1,2})(?::(\d{2}))? ?(am|pm)?$/.exec(body);
  if (!match) return undefined;
  const time = clock(Number(match[4]), Number(match[5] ?? 0), match[6]);
  if (!time) return undefined;
  const [hour, minute] = time;
  if (match[1] === 'daily') return `${minute} ${hour} * * *`;
  if (match[2] !== undefined) {
    const day = WEEKDAYS.indexOf(match[2]);
    return day < 0 ? undefined : `${minute} ${hour} * * ${day}`;
  }
  const dayOfMonth = Number(match[3]);
  return dayOfMonth >= 1 && dayOfMonth <= 28 ? `${minute} ${hour} ${dayOfMonth} * *` : undefined;
}

function clock(hour: number, minute: number, meridiem: string | undefined): [number, number] | undefined {
  if (minute > 59) return undefined;
  if (meridiem === undefined) return hour <= 23 ? [hour, minute] : undefined;
  if (hour < 1 || hour > 12) return undefined;
  const base = hour % 12;
  return [meridiem === 'pm' ? base + 12 : base, minute];
}

function isValidCron(cron: string, timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone }); // croner accepts an unknown zone until it first runs
    new Cron(cron, { paused: true, timezone }).stop();
    return true;
  } catch {
    return false;
  }
}

/**
 * The longest gap between two runs, sampled over the next year: what an RPO
 * is compared with. A schedule that never fires returns Infinity.
 */
export function longestGapMs(schedule: Schedule, from: Date = new Date(Date.UTC(2026, 0, 1))): number {
  const job = new Cron(schedule.cron, { paused: true, timezone: schedule.timezone });
  try {
    const runs = job.nextRuns(1000, from);
    if (runs.length < 2) return Number.POSITIVE_INFINITY;
    let longest = 0;
    for (let i = 1; i < runs.length; i++) {
      longest = Math.max(longest, (runs[i] as Date).getTime() - (runs[i - 1] as Date).getTime());
    }
    return longest;
  } finally {
    job.stop();
  }
}
