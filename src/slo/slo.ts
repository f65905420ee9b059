import {
  applyMaintenance, buildTimeline, downtimePeriods, mergeRanges, totals,
  type DowntimePeriod, type StatusChange, type TimeRange,
} from './timeline.js';

export interface MeasureInput {
  /** The subject's changes, including the last one before `window.start`. */
  changes: readonly StatusChange[];
  window: TimeRange;
  /** Time that counts neither as up nor as down; see `maintenanceIntervals`. */
  maintenance?: readonly TimeRange[];
  /** The availability promised, as a fraction: 0.999 for 99.9 %. */
  target: number;
}

export interface ErrorBudget {
  /** (1 - target) * (upMs + downMs). */
  allowedMs: number;
  usedMs: number;
  /** 1 - used / allowed; negative once overspent, -Infinity when nothing was allowed but some was used. */
  remainingRatio: number;
}

export interface SloMeasurement {
  /** up / (up + down); null when neither was observed. */
  availability: number | null;
  upMs: number;
  downMs: number;
  unknownMs: number;
  maintenanceMs: number;
  downtimePeriods: DowntimePeriod[];
  /** Down periods in the window (after maintenance is taken out). */
  incidents: number;
  /** Mean length of the down periods that ended in the window; null if none did. */
  mttrMs: number | null;
  /** upMs / incidents; null without incidents. */
  mtbfMs: number | null;
  errorBudget: ErrorBudget;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const WINDOWS = {
  '1h': HOUR,
  '24h': DAY,
  '7d': 7 * DAY,
  '30d': 30 * DAY,
  '90d': 90 * DAY,
} as const;

export type WindowName = keyof typeof WINDOWS;

function errorBudget(target: number, upMs: number, downMs: number): ErrorBudget {
  const allowedMs = (1 - target) * (upMs + downMs);
  let remainingRatio: number;
  if (allowedMs > 0) remainingRatio = 1 - downMs / allowedMs;
  else remainingRatio = downMs === 0 ? 1 : Number.NEGATIVE_INFINITY;
  return { allowedMs, usedMs: downMs, remainingRatio };
}

export function measure(input: MeasureInput): SloMeasurement {
  const timeline = applyMaintenance(buildTimeline(input.changes, input.window), mergeRanges(input.maintenance ?? [], input.window));
  const sums = totals(timeline);
  const periods = downtimePeriods(timeline);
  const finished = periods.filter((p) => p.end !== null);
  const observed = sums.up + sums.down;
  return {
    availability: observed > 0 ? sums.up / observed : null,
    upMs: sums.up,
    downMs: sums.down,
    unknownMs: sums.unknown,
    maintenanceMs: sums.maintenance,
    downtimePeriods: periods,
    incidents: periods.length,
    mttrMs: finished.length > 0 ? finished.reduce((s, p) => s + p.durationMs, 0) / finished.length : null,
    mtbfMs: periods.length > 0 ? sums.up / periods.length : null,
    errorBudget: errorBudget(input.target, sums.up, sums.down),
  };
}

export interface MeasureWindowsInput {
  changes: readonly StatusChange[];
  /** Every window ends here. */
  now: number;
  /** Maintenance covering at least the longest window. */
  maintenance?: readonly TimeRange[];
  target: number;
}

/** `measure` over each of `WINDOWS`, all ending at `now`. */
export function measureWindows(input: MeasureWindowsInput): Record<WindowName, SloMeasurement> {
  const out = {} as Record<WindowName, SloMeasurement>;
  for (const [name, ms] of Object.entries(WINDOWS) as [WindowName, number][]) {
    out[name] = measure({
      changes: input.changes,
      window: { start: input.now - ms, end: input.now },
      maintenance: input.maintenance,
      target: input.target,
    });
  }
  return out;
}
