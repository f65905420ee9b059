/**
 * A subject's status over a window, rebuilt from its state changes. Times are
 * epoch milliseconds; windows are half-open, [start, end).
 */

export type Status = 'up' | 'down' | 'unknown';
export type TimelineStatus = Status | 'maintenance';

export interface TimeRange {
  start: number;
  end: number;
}

/** What the store's `stateChanges` returns, reduced to what a timeline needs. */
export interface StatusChange {
  at: number;
  to: string;
}

export interface Interval {
  start: number;
  end: number;
  status: TimelineStatus;
}

export interface DowntimePeriod {
  start: number;
  /** null when still down at the window's end (no recovery seen in it). */
  end: number | null;
  /** Clipped to the window. */
  durationMs: number;
}

/** 'up' and 'down' are kept; anything else (unknown, pending, …) is unknown. */
export function toStatus(value: string): Status {
  return value === 'up' || value === 'down' ? value : 'unknown';
}

function push(out: Interval[], start: number, end: number, status: TimelineStatus): void {
  if (end <= start) return;
  const last = out[out.length - 1];
  if (last !== undefined && last.status === status && last.end === start) last.end = end;
  else out.push({ start, end, status });
}

/**
 * Intervals covering [start, end) exactly, adjacent ones of one status merged.
 * The state at `start` is the last change at or before it (the store returns
 * that change with the window's); with none, the window opens unknown.
 */
export function buildTimeline(changes: readonly StatusChange[], window: TimeRange): Interval[] {
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  let status: Status = 'unknown';
  let i = 0;
  for (; i < sorted.length && (sorted[i] as StatusChange).at <= window.start; i++) status = toStatus((sorted[i] as StatusChange).to);
  const out: Interval[] = [];
  let from = window.start;
  for (; i < sorted.length; i++) {
    const change = sorted[i] as StatusChange;
    if (change.at >= window.end) break;
    push(out, from, change.at, status);
    from = change.at;
    status = toStatus(change.to);
  }
  push(out, from, window.end, status);
  return out;
}

/** Sorted, non-overlapping union of `ranges`, clipped to `window` when given. */
export function mergeRanges(ranges: readonly TimeRange[], window?: TimeRange): TimeRange[] {
  const clipped = ranges
    .map((r) => (window ? { start: Math.max(r.start, window.start), end: Math.min(r.end, window.end) } : { ...r }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const out: TimeRange[] = [];
  for (const r of clipped) {
    const last = out[out.length - 1];
    if (last !== undefined && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push(r);
  }
  return out;
}

/** Marks the time inside `ranges` as maintenance, whatever the status was. */
export function applyMaintenance(intervals: readonly Interval[], ranges: readonly TimeRange[]): Interval[] {
  const out: Interval[] = [];
  const merged = mergeRanges(ranges);
  for (const iv of intervals) {
    let from = iv.start;
    for (const m of merged) {
      if (m.end <= from) continue;
      if (m.start >= iv.end) break;
      push(out, from, Math.max(from, m.start), iv.status);
      push(out, Math.max(from, m.start), Math.min(iv.end, m.end), 'maintenance');
      from = Math.min(iv.end, m.end);
    }
    push(out, from, iv.end, iv.status);
  }
  return out;
}

/** The down intervals; one still down when the timeline ends has `end: null`. */
export function downtimePeriods(intervals: readonly Interval[]): DowntimePeriod[] {
  const last = intervals[intervals.length - 1];
  return intervals
    .filter((iv) => iv.status === 'down')
    .map((iv) => ({ start: iv.start, end: iv === last ? null : iv.end, durationMs: iv.end - iv.start }));
}

export function totals(intervals: readonly Interval[]): Record<TimelineStatus, number> {
  const sums: Record<TimelineStatus, number> = { up: 0, down: 0, unknown: 0, maintenance: 0 };
  for (const iv of intervals) sums[iv.status] += iv.end - iv.start;
  return sums;
}
