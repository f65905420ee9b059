import { Cron } from 'croner';
import { mergeRanges, type TimeRange } from './timeline.js';

/** A `maintenance_windows` entry of the config, durations already in ms. */
export interface MaintenanceWindowConfig {
  name: string;
  services: readonly string[];
  schedule?: { cron: string; timezone: string };
  /** ISO 8601 with an offset. */
  start?: string;
  duration: number;
}

export interface MaintenanceInterval extends TimeRange {
  name: string;
}

/** A runaway schedule (every minute, long windows) stops here rather than hang. */
const MAX_OCCURRENCES = 200_000;

function occurrences(schedule: { cron: string; timezone: string }, duration: number, window: TimeRange): TimeRange[] {
  const cron = new Cron(schedule.cron, { timezone: schedule.timezone });
  const out: TimeRange[] = [];
  // From one duration before the window: an occurrence that began earlier still covers its start.
  let next = cron.nextRun(new Date(window.start - duration));
  while (next !== null && next.getTime() < window.end && out.length < MAX_OCCURRENCES) {
    out.push({ start: next.getTime(), end: next.getTime() + duration });
    next = cron.nextRun(next);
  }
  return out;
}

/**
 * The maintenance time in `window`, per entry, clipped to the window. With
 * `service`, only entries that name it. Overlapping occurrences of one entry
 * are merged.
 */
export function maintenanceIntervals(
  windows: readonly MaintenanceWindowConfig[],
  window: TimeRange,
  service?: string,
): MaintenanceInterval[] {
  const out: MaintenanceInterval[] = [];
  for (const w of windows) {
    if (service !== undefined && !w.services.includes(service)) continue;
    const ranges: TimeRange[] = [];
    if (w.schedule) ranges.push(...occurrences(w.schedule, w.duration, window));
    if (w.start !== undefined) {
      const start = Date.parse(w.start);
      if (!Number.isNaN(start)) ranges.push({ start, end: start + w.duration });
    }
    for (const r of mergeRanges(ranges, window)) out.push({ name: w.name, ...r });
  }
  return out.sort((a, b) => a.start - b.start);
}
