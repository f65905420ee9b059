import { createHash } from 'node:crypto';
import type { ComponentStatus, ComponentView, GroupView, PublicIncident, ScheduledMaintenance, StatusSnapshot } from './types.js';

/**
 * Statuspage's public API (v2) shapes, so that tools written for it read this
 * page: page, status{indicator, description}, components, incidents with
 * incident_updates, scheduled_maintenances. Times are ISO 8601.
 */

const iso = (ms: number) => new Date(ms).toISOString();

function pageId(snap: StatusSnapshot): string {
  return createHash('sha256').update(snap.title).digest('hex').slice(0, 12);
}

export function pageJson(snap: StatusSnapshot, base: string) {
  return { id: pageId(snap), name: snap.title, url: `${base}/`, time_zone: 'Etc/UTC', updated_at: iso(snap.at) };
}

function componentJson(snap: StatusSnapshot, c: ComponentView, groupId: string | null, position: number) {
  return {
    id: c.id, name: c.name, status: c.status, created_at: null, updated_at: iso(snap.at), position, description: null,
    showcase: true, start_date: null, group_id: groupId, page_id: pageId(snap), group: false, only_show_if_degraded: false,
  };
}

const RANK: ComponentStatus[] = ['operational', 'under_maintenance', 'degraded_performance', 'partial_outage', 'major_outage'];

function groupJson(snap: StatusSnapshot, g: GroupView, position: number) {
  const status = g.components.map((c) => c.status).reduce((a, b) => (RANK.indexOf(b) > RANK.indexOf(a) ? b : a), 'operational' as ComponentStatus);
  return {
    id: g.id, name: g.name, status, created_at: null, updated_at: iso(snap.at), position, description: null,
    showcase: false, start_date: null, group_id: null, page_id: pageId(snap), group: true, only_show_if_degraded: false,
    components: g.components.map((c) => c.id),
  };
}

export function componentsJson(snap: StatusSnapshot) {
  let position = 0;
  return snap.groups.flatMap((g) => [groupJson(snap, g, ++position), ...g.components.map((c) => componentJson(snap, c, g.id, ++position))]);
}

export function incidentJson(snap: StatusSnapshot, i: PublicIncident, base: string) {
  const id = String(i.id);
  const byName = new Map(snap.components.map((c, n) => [c.name, componentJson(snap, c, null, n + 1)]));
  return {
    id, name: i.name, status: i.status, impact: i.impact,
    created_at: iso(i.createdAt), updated_at: iso(i.updatedAt), started_at: iso(i.createdAt),
    monitoring_at: i.updates.find((u) => u.status === 'monitoring') ? iso(i.updates.find((u) => u.status === 'monitoring')!.at) : null,
    resolved_at: i.resolvedAt === null ? null : iso(i.resolvedAt),
    shortlink: `${base}/incidents/${id}`, page_id: pageId(snap),
    incident_updates: i.updates.map((u, n) => ({
      id: `${id}-${i.updates.length - n}`, incident_id: id, status: u.status, body: u.body,
      created_at: iso(u.at), updated_at: iso(u.at), display_at: iso(u.at),
    })),
    components: i.components.flatMap((name) => (byName.has(name) ? [byName.get(name)!] : [])),
  };
}

export function maintenanceJson(snap: StatusSnapshot, m: ScheduledMaintenance, base: string) {
  return {
    id: `${m.name}-${m.start}`, name: m.name, status: m.status, impact: 'maintenance',
    created_at: iso(m.start), updated_at: iso(snap.at), started_at: iso(m.start), monitoring_at: null, resolved_at: null,
    scheduled_for: iso(m.start), scheduled_until: iso(m.end), shortlink: `${base}/`, page_id: pageId(snap), incident_updates: [],
    components: snap.components.filter((c) => m.components.includes(c.name)).map((c, n) => componentJson(snap, c, null, n + 1)),
  };
}

/** Statuspage lists the 50 most recent incidents. */
const INCIDENTS_SHOWN = 50;

export function v2Documents(snap: StatusSnapshot, base: string): Record<string, () => unknown> {
  const page = pageJson(snap, base);
  const status = { indicator: snap.overall.indicator, description: snap.overall.description };
  return {
    'summary.json': () => ({
      page, status, components: componentsJson(snap),
      incidents: snap.active.map((i) => incidentJson(snap, i, base)),
      scheduled_maintenances: snap.maintenance.map((m) => maintenanceJson(snap, m, base)),
    }),
    'status.json': () => ({ page, status }),
    'components.json': () => ({ page, components: componentsJson(snap) }),
    'incidents.json': () => ({ page, incidents: snap.incidents.slice(0, INCIDENTS_SHOWN).map((i) => incidentJson(snap, i, base)) }),
    'incidents/unresolved.json': () => ({ page, incidents: snap.active.map((i) => incidentJson(snap, i, base)) }),
    'scheduled-maintenances.json': () => ({ page, scheduled_maintenances: snap.maintenance.map((m) => maintenanceJson(snap, m, base)) }),
  };
}
