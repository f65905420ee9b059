import type { BulwarkConfig } from '../config/index.js';
import type { IncidentRecord } from '../store/index.js';
import type { ComponentRef, ComponentStatus, OverallStatus, StatusProbeViews } from './types.js';

/**
 * Which components the page shows, how they are grouped, and the state of each
 * now: from the probes (the quorum decision per endpoint and per owner), from
 * open incidents, and from maintenance windows in progress.
 */

/** The components in the order the page lists them: `status_page.services`, or every service then every database. */
export function pageComponents(config: BulwarkConfig): ComponentRef[] {
  const names = config.status_page?.services;
  if (names === undefined) {
    return [
      ...Object.keys(config.services).map((name) => ({ kind: 'service' as const, name })),
      ...Object.keys(config.databases).map((name) => ({ kind: 'database' as const, name })),
    ];
  }
  return names.flatMap((name): ComponentRef[] => {
    if (config.services[name]) return [{ kind: 'service', name }];
    if (config.databases[name]) return [{ kind: 'database', name }];
    return [];
  });
}

export function componentId(ref: ComponentRef): string {
  return `${ref.kind}-${ref.name}`;
}

function zonesOf(config: BulwarkConfig, ref: ComponentRef): string[] {
  if (ref.kind === 'service') return (config.services[ref.name]?.endpoints ?? []).flatMap((e) => (e.zone ? [e.zone] : []));
  const db = config.databases[ref.name];
  return [...(db?.postgres?.members ?? []), ...(db?.redis?.members ?? [])].flatMap((m) => (m.zone ? [m.zone] : []));
}

export const OTHER_GROUP = 'Other';
export const MULTI_REGION_GROUP = 'Multiple regions';

/** The region its endpoints' (or members') zones are in; several regions share one group. */
function regionGroup(config: BulwarkConfig, ref: ComponentRef): string {
  const regions = new Set(zonesOf(config, ref).flatMap((z) => (config.zones[z] ? [config.zones[z].region] : [])));
  if (regions.size === 0) return OTHER_GROUP;
  return regions.size === 1 ? [...regions][0]! : MULTI_REGION_GROUP;
}

/** Group name per component: `status_page.groups` when set (the rest go to "Other"), else by region. */
export function groupOf(config: BulwarkConfig, ref: ComponentRef): string {
  const groups = config.status_page?.groups;
  if (groups === undefined) return regionGroup(config, ref);
  for (const [group, names] of Object.entries(groups)) if (names.includes(ref.name)) return group;
  return OTHER_GROUP;
}

const RANK: Record<Exclude<ComponentStatus, 'under_maintenance'>, number> = {
  operational: 0, degraded_performance: 1, partial_outage: 2, major_outage: 3,
};

function worse(a: ComponentStatus, b: ComponentStatus): ComponentStatus {
  if (a === 'under_maintenance' || b === 'under_maintenance') return a === 'under_maintenance' ? b : a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** From the probes: the owner down is a major outage; some endpoints down, a partial outage (half or more) or degraded performance. */
export function probeStatus(views: StatusProbeViews, ref: ComponentRef): ComponentStatus {
  const owner = views.ownerViews().find((o) => o.kind === ref.kind && o.name === ref.name);
  if (owner?.status === 'down') return 'major_outage';
  const members = views.targetViews().filter((t) => t.owner.kind === ref.kind && t.owner.name === ref.name);
  const down = members.filter((t) => t.status === 'down').length;
  if (down === 0) return 'operational';
  return down * 2 >= members.length ? 'partial_outage' : 'degraded_performance';
}

/** Backup, archiving and verification incidents are the operators' business; users see them only when the service suffers. */
export function incidentComponents(incident: Pick<IncidentRecord, 'labels'>, shown: ReadonlySet<string>): string[] {
  if (incident.labels.policy !== undefined) return [];
  // A declared disaster (alerting's declare) names every affected component in `components`.
  const named = [incident.labels.service, incident.labels.database, ...(incident.labels.components?.split(',') ?? [])];
  return [...new Set(named)].filter((n): n is string => n !== undefined && n !== '' && shown.has(n));
}

/** From open incidents: a critical one is at least a partial outage, a warning at least degraded performance. */
export function incidentStatus(open: readonly IncidentRecord[], ref: ComponentRef): ComponentStatus {
  let status: ComponentStatus = 'operational';
  for (const incident of open) {
    if (incident.state === 'resolved' || !incidentComponents(incident, new Set([ref.name])).length) continue;
    if (incident.severity === 'critical') status = worse(status, incident.labels.declared === 'true' ? 'major_outage' : 'partial_outage');
    else if (incident.severity === 'warning') status = worse(status, 'degraded_performance');
  }
  return status;
}

/** Maintenance in progress wins: what happens then was announced. */
export function componentStatus(probe: ComponentStatus, incident: ComponentStatus, inMaintenance: boolean): ComponentStatus {
  return inMaintenance ? 'under_maintenance' : worse(probe, incident);
}

/** The page's headline, Statuspage's indicator with our words. */
export function overallStatus(statuses: readonly ComponentStatus[]): OverallStatus {
  if (statuses.includes('major_outage')) return { indicator: 'critical', description: 'Major outage' };
  if (statuses.includes('partial_outage')) return { indicator: 'major', description: 'Partial outage' };
  if (statuses.includes('degraded_performance')) return { indicator: 'minor', description: 'Degraded performance' };
  if (statuses.includes('under_maintenance')) return { indicator: 'maintenance', description: 'Under maintenance' };
  return { indicator: 'none', description: 'All systems operational' };
}

export const STATUS_LABEL: Record<ComponentStatus, string> = {
  operational: 'Operational',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  under_maintenance: 'Under maintenance',
};
