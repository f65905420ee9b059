import {
  applyMaintenance, buildTimeline, maintenanceIntervals, mergeRanges,
  type MaintenanceWindowConfig, type StatusChange, type TimelineStatus, type TimeRange,
} from '../slo/index.js';
import type { StateChange } from '../store/index.js';
import type { ComponentRef, DayFigure, StatusStore } from './types.js';

/**
 * The uptime bars: per UTC day, the time up against the time up or down, as
 * the SLO reporter measures availability (src/slo's timeline of the owner's
 * recorded state changes, maintenance and unknown time counting as neither).
 */

export const DAY_MS = 86_400_000;

/** The first instant of the oldest day shown: UTC midnight `days - 1` days before today's. */
export function historyStart(now: number, days: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
}

export interface ComponentHistory {
  days: DayFigure[];
  uptime: number | null;
}

type Sums = Record<TimelineStatus, number>;

/**
 * One component's days from its changes (the state before the window included).
 * One timeline over the whole history, cut at each UTC midnight: the figures
 * `measure` gives day by day, in one pass rather than a timeline per day.
 */
export function dailyUptime(changes: readonly StatusChange[], maintenance: readonly TimeRange[], now: number, days: number): ComponentHistory {
  const start = historyStart(now, days);
  const window = { start, end: now };
  const sums: Sums[] = Array.from({ length: Math.ceil((now - start) / DAY_MS) }, () => ({ up: 0, down: 0, unknown: 0, maintenance: 0 }));
  for (const iv of applyMaintenance(buildTimeline(changes, window), mergeRanges(maintenance, window))) {
    for (let from = iv.start; from < iv.end;) {
      const day = Math.floor((from - start) / DAY_MS);
      const to = Math.min(iv.end, start + (day + 1) * DAY_MS);
      sums[day]![iv.status] += to - from;
      from = to;
    }
  }
  const ratio = (s: Pick<Sums, 'up' | 'down'>) => (s.up + s.down > 0 ? s.up / (s.up + s.down) : null);
  const total = sums.reduce((a, s) => ({ up: a.up + s.up, down: a.down + s.down }), { up: 0, down: 0 });
  return {
    days: sums.map((s, i) => ({ start: start + i * DAY_MS, availability: ratio(s), downMs: s.down, maintenanceMs: s.maintenance })),
    uptime: ratio(total),
  };
}

/** Every component's history, with one store read per kind. */
export async function componentHistories(
  store: Pick<StatusStore, 'stateChanges'>,
  refs: readonly ComponentRef[],
  windows: readonly MaintenanceWindowConfig[],
  now: number,
  days: number,
): Promise<Map<string, ComponentHistory>> {
  const span = { start: historyStart(now, days), end: now };
  const byKey = new Map<string, StateChange[]>();
  for (const kind of new Set(refs.map((r) => r.kind))) {
    for (const change of await store.stateChanges({ subjectKind: kind, since: span.start, until: now })) {
      const key = `${kind}/${change.subject}`;
      byKey.set(key, [...(byKey.get(key) ?? []), change]);
    }
  }
  const out = new Map<string, ComponentHistory>();
  for (const ref of refs) {
    const maintenance = maintenanceIntervals(windows, span, ref.name);
    out.set(`${ref.kind}/${ref.name}`, dailyUptime(byKey.get(`${ref.kind}/${ref.name}`) ?? [], maintenance, now, days));
  }
  return out;
}
