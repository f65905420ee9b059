import { maintenanceIntervals, measure, type MaintenanceWindowConfig, type StatusChange, type TimeRange } from '../slo/index.js';
import type { StateChange } from '../store/index.js';
import type { ComponentRef, DayFigure, StatusStore } from './types.js';

/**
 * The uptime bars: per UTC day, the time up against the time up or down, as
 * the SLO reporter measures availability (src/slo: the owner's recorded state
 * changes, maintenance and unknown time counting as neither).
 */

export const DAY_MS = 86_400_000;

/** The first instant of the oldest day shown: UTC midnight `days - 1` days before today's. */
export function historyStart(now: number, days: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
}

/** The changes that decide [start, end): the last at or before `start` and those inside. */
function changesFor(sorted: readonly StatusChange[], range: TimeRange): StatusChange[] {
  let first = 0;
  for (let i = 0; i < sorted.length && sorted[i]!.at <= range.start; i++) first = i;
  const out: StatusChange[] = [];
  for (let i = first; i < sorted.length && sorted[i]!.at < range.end; i++) out.push(sorted[i]!);
  return out;
}

export interface ComponentHistory {
  days: DayFigure[];
  uptime: number | null;
}

/** One component's days from its changes (oldest first, preceded by the state at the start). */
export function dailyUptime(changes: readonly StatusChange[], maintenance: readonly TimeRange[], now: number, days: number): ComponentHistory {
  const start = historyStart(now, days);
  const sorted = [...changes].sort((a, b) => a.at - b.at);
  const out: DayFigure[] = [];
  for (let day = 0; day < days; day++) {
    const window = { start: start + day * DAY_MS, end: Math.min(start + (day + 1) * DAY_MS, now) };
    if (window.end <= window.start) break;
    const m = measure({ changes: changesFor(sorted, window), window, maintenance, target: 1 });
    out.push({ start: window.start, availability: m.availability, downMs: m.downMs, maintenanceMs: m.maintenanceMs });
  }
  const whole = measure({ changes: sorted, window: { start, end: now }, maintenance, target: 1 });
  return { days: out, uptime: whole.availability };
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
