import type { AlertSeverity as Severity } from '../config/index.js';

/**
 * Multi-window, multi-burn-rate error-budget alerts, as the Google SRE workbook
 * recommends them: chapter 5 "Alerting on SLOs", approach 6, table 5-8
 * "Recommended parameters for a 99.9% SLO alerting configuration"
 * (https://sre.google/workbook/alerting-on-slos/).
 *
 * | severity | long window | short window | burn rate | error budget consumed |
 * |----------|-------------|--------------|-----------|-----------------------|
 * | page     | 1 hour      | 5 minutes    | 14.4      | 2%                    |
 * | page     | 6 hours     | 30 minutes   | 6         | 5%                    |
 * | ticket   | 3 days      | 6 hours      | 1         | 10%                   |
 *
 * The burn rates are those of a 30-day budget (2% of 30 days spent in 1 hour is
 * 0.02 * 720 h / 1 h = 14.4); being ratios to the budget, they hold for any
 * target. An alert fires when both its windows burn at least that fast: the long
 * window says enough budget was spent, the short one that it is still being
 * spent, so the alert resets within about a short window after the errors stop.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** The budget period the workbook's burn rates are computed for. */
export const SLO_PERIOD_MS = 30 * DAY_MS;

export type BurnRateAction = 'page' | 'ticket';

export interface BurnRateAlertSpec {
  action: BurnRateAction;
  /** page → critical, ticket → warning. */
  severity: Severity;
  longWindowMs: number;
  shortWindowMs: number;
  /** Fires at or above this in both windows. */
  burnRate: number;
  /** Share of the period's budget spent when the long window alone trips: 0.02 for 2%. */
  budgetConsumed: number;
}

/** Burn rate at which `budgetConsumed` of a `periodMs` budget is spent within `longWindowMs`. */
export function burnRateThreshold(budgetConsumed: number, longWindowMs: number, periodMs: number = SLO_PERIOD_MS): number {
  return (budgetConsumed * periodMs) / longWindowMs;
}

function spec(action: BurnRateAction, budgetConsumed: number, longWindowMs: number, shortWindowMs: number): BurnRateAlertSpec {
  // Rounded so that 0.02 * 720 reads 14.4, not 14.399999999999999.
  const burnRate = Math.round(burnRateThreshold(budgetConsumed, longWindowMs) * 1e9) / 1e9;
  return { action, severity: action === 'page' ? 'critical' : 'warning', longWindowMs, shortWindowMs, burnRate, budgetConsumed };
}

/** The workbook's table 5-8, row by row. */
export const WORKBOOK_BURN_RATE_ALERTS: readonly BurnRateAlertSpec[] = Object.freeze([
  spec('page', 0.02, HOUR_MS, 5 * MINUTE_MS),
  spec('page', 0.05, 6 * HOUR_MS, 30 * MINUTE_MS),
  spec('ticket', 0.1, 3 * DAY_MS, 6 * HOUR_MS),
]);

/** Bad and total over one window; for time-based availability, milliseconds down and observed. */
export interface WindowCounts {
  bad: number;
  total: number;
}

/** Counts over the window of this length that ends now. */
export type WindowCountsSource = (windowMs: number) => WindowCounts;

/** A function, or counts precomputed per window length (a missing window counts as no data). */
export type WindowCountsInput = WindowCountsSource | ReadonlyMap<number, WindowCounts>;

export interface WindowBurn extends WindowCounts {
  windowMs: number;
  /** Error ratio over the allowed one; null when the window holds no data. */
  burnRate: number | null;
}

export interface BurnRateAlertResult {
  spec: BurnRateAlertSpec;
  long: WindowBurn;
  short: WindowBurn;
  firing: boolean;
}

export interface BurnRateEvaluation {
  /** The availability target evaluated against: 0.999 for 99.9 %. */
  target: number;
  /** One per spec, in the specs' order. */
  alerts: BurnRateAlertResult[];
  /** The firing ones. */
  firing: BurnRateAlertResult[];
  /** The highest severity among the firing ones; null when none fires. */
  severity: Severity | null;
}

/**
 * (bad / total) / (1 - target). Null without data. A target of 100 % allows no
 * error at all: any bad is an infinite burn, none is 0.
 */
export function burnRate(counts: WindowCounts, target: number): number | null {
  if (!(counts.total > 0)) return null;
  const allowed = 1 - target;
  const ratio = counts.bad / counts.total;
  if (allowed <= 0) return ratio > 0 ? Number.POSITIVE_INFINITY : 0;
  return ratio / allowed;
}

// Ratios such as 0.0144 / 0.001 land a hair below 14.4 in floating point; an
// error ratio exactly at the threshold must fire, as the workbook's ≥ says.
const RELATIVE_TOLERANCE = 1e-9;

function reaches(rate: number | null, threshold: number): boolean {
  return rate !== null && rate >= threshold * (1 - RELATIVE_TOLERANCE);
}

function countsFor(input: WindowCountsInput, windowMs: number): WindowCounts {
  if (typeof input === 'function') return input(windowMs);
  return input.get(windowMs) ?? { bad: 0, total: 0 };
}

function windowBurn(input: WindowCountsInput, windowMs: number, target: number): WindowBurn {
  const counts = countsFor(input, windowMs);
  return { windowMs, bad: counts.bad, total: counts.total, burnRate: burnRate(counts, target) };
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 3, warning: 2, info: 1 };

/** Evaluates every spec (the workbook's table by default) against one target. */
export function evaluateBurnRate(
  target: number,
  counts: WindowCountsInput,
  specs: readonly BurnRateAlertSpec[] = WORKBOOK_BURN_RATE_ALERTS,
): BurnRateEvaluation {
  const alerts = specs.map((s): BurnRateAlertResult => {
    const long = windowBurn(counts, s.longWindowMs, target);
    const short = windowBurn(counts, s.shortWindowMs, target);
    return { spec: s, long, short, firing: reaches(long.burnRate, s.burnRate) && reaches(short.burnRate, s.burnRate) };
  });
  const firing = alerts.filter((a) => a.firing);
  const severity = firing.reduce<Severity | null>(
    (worst, a) => (worst === null || SEVERITY_RANK[a.spec.severity] > SEVERITY_RANK[worst] ? a.spec.severity : worst),
    null,
  );
  return { target, alerts, firing, severity };
}

/** Every window length the specs need, shortest first: what a source should compute. */
export function burnRateWindows(specs: readonly BurnRateAlertSpec[] = WORKBOOK_BURN_RATE_ALERTS): number[] {
  return [...new Set(specs.flatMap((s) => [s.longWindowMs, s.shortWindowMs]))].sort((a, b) => a - b);
}

/**
 * The workbook's detection time: how long a constant `errorRatio`, starting from
 * none, takes to trip an alert on a `windowMs` window at `burnRate`:
 * ((1 - SLO) / error ratio) * window * burn rate. Infinity when it never does.
 */
export function detectionTimeMs(target: number, errorRatio: number, windowMs: number, rate: number): number {
  if (errorRatio <= 0) return Number.POSITIVE_INFINITY;
  const ms = ((1 - target) / errorRatio) * windowMs * rate;
  return ms > windowMs ? Number.POSITIVE_INFINITY : ms;
}
