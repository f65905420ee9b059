/**
 * Downtime budgets. Convention: a year is 365 days (so 99.9% is the familiar
 * 8.76 h/year and 43.8 min/month), a month is a twelfth of that year and a
 * week is 7 days.
 */
export const DAY_MS = 86_400_000;
export const DAYS_PER_YEAR = 365;
export const YEAR_MS = DAYS_PER_YEAR * DAY_MS;
export const MONTH_MS = YEAR_MS / 12;
export const WEEK_MS = 7 * DAY_MS;

export interface Downtime {
  yearMs: number;
  monthMs: number;
  weekMs: number;
}

/** Expected (or allowed) downtime per period for an availability fraction. */
export function downtimeFor(availability: number): Downtime {
  const down = Math.min(1, Math.max(0, 1 - availability));
  return { yearMs: down * YEAR_MS, monthMs: down * MONTH_MS, weekMs: down * WEEK_MS };
}
