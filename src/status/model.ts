import type { BulwarkConfig } from '../config/index.js';
import { maintenanceIntervals } from '../slo/index.js';
import type { IncidentRecord } from '../store/index.js';
import {
  componentId, componentStatus, groupOf, incidentStatus, overallStatus, pageComponents, probeStatus,
} from './components.js';
import { publicIncident } from './incidents.js';
import { componentHistories, DAY_MS } from './uptime.js';
import type {
  ComponentRef, ComponentView, GroupView, PublicIncident, ScheduledMaintenance, StatusProbeViews, StatusSnapshot, StatusStore,
} from './types.js';

export interface ModelInput {
  config: BulwarkConfig;
  probes: StatusProbeViews;
  store: StatusStore;
  now: number;
}

/** Incidents the archive reaches back over; the store answers at most this many. */
const INCIDENT_LIMIT = 1000;
const UPCOMING_MS = 7 * DAY_MS;

function inMaintenance(config: BulwarkConfig, ref: ComponentRef, now: number): boolean {
  return maintenanceIntervals(config.maintenance_windows, { start: now, end: now + 1 }, ref.name).length > 0;
}

/** Maintenance in progress and starting within 7 days, of the components on the page. */
export function scheduledMaintenance(config: BulwarkConfig, shown: ReadonlySet<string>, now: number): ScheduledMaintenance[] {
  const out: ScheduledMaintenance[] = [];
  for (const window of config.maintenance_windows) {
    const components = window.services.filter((s) => shown.has(s));
    if (components.length === 0) continue;
    for (const range of maintenanceIntervals([window], { start: now - UPCOMING_MS, end: now + UPCOMING_MS })) {
      if (range.end <= now) continue;
      out.push({ name: window.name, components, start: range.start, end: range.end, status: range.start <= now ? 'in_progress' : 'scheduled' });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

async function publicIncidents(store: StatusStore, shown: ReadonlySet<string>): Promise<PublicIncident[]> {
  const records: IncidentRecord[] = await store.alerting.listIncidents({ limit: INCIDENT_LIMIT });
  const out: PublicIncident[] = [];
  for (const record of records) {
    if (record.labels.policy !== undefined) continue;
    const view = publicIncident(record, await store.alerting.incidentEvents(record.id), shown);
    if (view) out.push(view);
  }
  return out;
}

function groupViews(components: readonly ComponentView[]): GroupView[] {
  const groups = new Map<string, ComponentView[]>();
  for (const c of components) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  return [...groups.entries()].map(([name, list], i) => ({ id: `group-${i + 1}`, name, components: list }));
}

/** The page's whole state at `now`. */
export async function buildSnapshot(input: ModelInput): Promise<StatusSnapshot> {
  const { config, probes, store, now } = input;
  const page = config.status_page;
  const days = page?.history_days ?? 90;
  const refs = pageComponents(config);
  const shown = new Set(refs.map((r) => r.name));
  const [open, histories, incidents] = await Promise.all([
    store.alerting.openIncidents(),
    componentHistories(store, refs, config.maintenance_windows, now, days),
    publicIncidents(store, shown),
  ]);
  const components = refs.map((ref): ComponentView => {
    const history = histories.get(`${ref.kind}/${ref.name}`);
    return {
      ...ref,
      id: componentId(ref),
      status: componentStatus(probeStatus(probes, ref), incidentStatus(open, ref), inMaintenance(config, ref, now)),
      group: groupOf(config, ref),
      days: history?.days ?? [],
      uptime: history?.uptime ?? null,
    };
  });
  return {
    title: page?.title ?? config.name ?? 'Status',
    description: page?.description ?? null,
    publicUrl: page?.public_url?.replace(/\/+$/, '') ?? null,
    historyDays: days,
    at: now,
    overall: overallStatus(components.map((c) => c.status)),
    groups: groupViews(components),
    components,
    active: incidents.filter((i) => i.status !== 'resolved'),
    incidents,
    maintenance: scheduledMaintenance(config, shown, now),
  };
}
