import { BulwarkError } from '../../core/errors.js';

/** Wall-clock fields of an instant in some time zone. `month` is 1..12. */
export interface CalendarFields {
  year: number;
  month: number;
  day: number;
  hour: number;
}

/** Calendar buckets of the retention rules, as comparable numbers (as restic does). */
export type BucketKind = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
      });
    } catch (err) {
      throw new BulwarkError('USAGE', `unknown time zone "${timeZone}"`, {
        hint: 'use an IANA zone name such as Europe/Berlin or America/New_York, or UTC',
        cause: err,
      });
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws BulwarkError USAGE when the zone is not one Intl knows. */
export function checkTimeZone(timeZone: string): void {
  if (timeZone !== 'UTC') formatterFor(timeZone);
}

export function calendarFields(time: Date, timeZone: string): CalendarFields {
  if (timeZone === 'UTC') {
    return { year: time.getUTCFullYear(), month: time.getUTCMonth() + 1, day: time.getUTCDate(), hour: time.getUTCHours() };
  }
  const fields: CalendarFields = { year: 0, month: 0, day: 0, hour: 0 };
  for (const part of formatterFor(timeZone).formatToParts(time)) {
    if (part.type === 'year' || part.type === 'month' || part.type === 'day') fields[part.type] = Number(part.value);
    // Some ICU versions print midnight as 24 even with h23.
    else if (part.type === 'hour') fields.hour = Number(part.value) % 24;
  }
  return fields;
}

/** ISO 8601 week: weeks start on Monday; week 1 is the week with the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { isoYear: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const mondayBased = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = date + (3 - mondayBased) * DAY_MS;
  const isoYear = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS));
  return { isoYear, week };
}

/** The bucket of `f` for a rule: equal numbers mean the same hour/day/ISO week/month/year. */
export function bucketOf(kind: BucketKind, f: CalendarFields): number {
  switch (kind) {
    case 'hourly':
      return ((f.year * 100 + f.month) * 100 + f.day) * 100 + f.hour;
    case 'daily':
      return (f.year * 100 + f.month) * 100 + f.day;
    case 'weekly': {
      const { isoYear, week } = isoWeek(f.year, f.month, f.day);
      return isoYear * 100 + week;
    }
    case 'monthly':
      return f.year * 100 + f.month;
    case 'yearly':
      return f.year;
  }
}
