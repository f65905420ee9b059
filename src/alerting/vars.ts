import type { BulwarkConfig } from '../config/index.js';
import type { Incident } from './types.js';

/**
 * The values a communication template can use (the names are the ones
 * `src/config/template-vars.ts` lists, seed 000's included). Times are UTC,
 * written for people.
 */

export interface VarsContext {
  config: BulwarkConfig;
  now: number;
  links?: { acknowledge?: string; resolve?: string; view?: string };
  /** When the next public update is due; defaults to now + update_interval. */
  nextUpdateAt?: number;
}

export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return `${Math.max(0, Math.round(ms / 1000))} seconds`;
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `${hours} hour${hours === 1 ? '' : 's'}${rest ? ` ${rest} minute${rest === 1 ? '' : 's'}` : ''}`;
}

/** The component the incident is about, as customers know it. */
export function componentOf(incident: Pick<Incident, 'labels' | 'title'>): string {
  const l = incident.labels;
  return l.service ?? l.database ?? l.policy ?? l.zone ?? l.region ?? l.agent ?? incident.title;
}

function currentStatus(incident: Incident): string {
  if (incident.state === 'resolved') return 'Resolved';
  const affected = incident.alerts.length > 1 ? ` (${incident.alerts.length} alerts)` : '';
  if (incident.state === 'acknowledged') return `Identified: ${incident.acknowledgedBy ?? 'the on-call engineer'} is working on it${affected}`;
  if (incident.clearSince !== null) return `Monitoring: the condition has cleared and we are watching for recurrence${affected}`;
  return `Investigating${affected}`;
}

/**
 * Per configuration (a reload makes a new object): every message of an incident
 * names its dependents, and walking every service per message was a twentieth
 * of the daemon's CPU when 2,500 services went down at once.
 */
const dependentsByConfig = new WeakMap<BulwarkConfig, Map<string, ReadonlyArray<{ name: string; tier?: string }>>>();

/** Everything that depends on `component`, directly or through other services, with its tier. */
export function dependents(config: BulwarkConfig, component: string): ReadonlyArray<{ name: string; tier?: string }> {
  let known = dependentsByConfig.get(config);
  if (!known) dependentsByConfig.set(config, (known = new Map()));
  let found = known.get(component);
  if (!found) known.set(component, (found = walkDependents(config, component)));
  return found;
}

function walkDependents(config: BulwarkConfig, component: string): Array<{ name: string; tier?: string }> {
  const found = new Map<string, string | undefined>();
  const queue = [component];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const [name, service] of Object.entries(config.services)) {
      if (found.has(name) || name === component || !service.depends_on.includes(current)) continue;
      found.set(name, service.tier);
      queue.push(name);
    }
  }
  return [...found].map(([name, tier]) => ({ name, tier }));
}

function tierOf(config: BulwarkConfig, component: string): string | undefined {
  return config.services[component]?.tier ?? config.databases[component]?.tier;
}

/** "api (enterprise tier) is unavailable; also affected: web (standard tier)". */
export function impactOf(config: BulwarkConfig, incident: Incident): string {
  const component = componentOf(incident);
  const tier = tierOf(config, component);
  const head = `${component}${tier ? ` (${tier} tier)` : ''} ${incident.state === 'resolved' ? 'was' : 'is'} ${incident.rule.endsWith('_down') || /down/.test(incident.rule) ? 'unavailable' : 'degraded'}`;
  const affected = dependents(config, component).map((d) => `${d.name}${d.tier ? ` (${d.tier} tier)` : ''}`);
  return affected.length ? `${head}; also affected: ${affected.join(', ')}` : head;
}

export function incidentVars(incident: Incident, ctx: VarsContext): Record<string, string> {
  const component = componentOf(incident);
  const alerting = ctx.config.alerting;
  const nextUpdate = ctx.nextUpdateAt ?? incident.reminderAt ?? ctx.now + (alerting?.update_interval ?? 30 * 60_000);
  const end = incident.resolvedAt ?? ctx.now;
  const impact = impactOf(ctx.config, incident);
  const vars: Record<string, string> = {
    incident_id: String(incident.id),
    rule: incident.rule,
    title: incident.title,
    summary: incident.title,
    severity: incident.severity,
    service: component,
    service_name: component,
    status: incident.state,
    current_status: currentStatus(incident),
    started_at: formatTime(incident.openedAt),
    start_time: formatTime(incident.openedAt),
    impact,
    impact_description: impact,
    next_update: formatTime(nextUpdate),
    next_update_time: formatTime(nextUpdate),
    duration: formatDuration(end - incident.openedAt),
    resolved_at: incident.resolvedAt ? formatTime(incident.resolvedAt) : '',
    resolution_time: incident.resolvedAt ? formatTime(incident.resolvedAt) : '',
    root_cause: incident.rootCause ?? 'under investigation',
    root_cause_summary: incident.rootCause ?? 'under investigation',
    resolution: incident.resolution ?? (incident.resolvedBy === 'bulwark' ? 'the service recovered and its health checks pass again' : 'not recorded yet'),
    resolution_summary: incident.resolution ?? (incident.resolvedBy === 'bulwark' ? 'the service recovered and its health checks pass again' : 'not recorded yet'),
    owner: incident.owner ?? 'unassigned',
    acknowledged_by: incident.acknowledgedBy ?? '',
    tier: incident.labels.tier ?? tierOf(ctx.config, component) ?? '',
    zone: incident.labels.zone ?? '',
    region: incident.labels.region ?? '',
    review_due: incident.resolvedAt ? formatTime(incident.resolvedAt + (alerting?.review_within ?? 48 * 3_600_000)) : '',
    ...linkVars(ctx.links),
  };
  return vars;
}

/** The variables that differ per recipient: each one's signed links. */
export function linkVars(links: VarsContext['links']): Record<'acknowledge_url' | 'resolve_url' | 'incident_url', string> {
  return { acknowledge_url: links?.acknowledge ?? '', resolve_url: links?.resolve ?? '', incident_url: links?.view ?? '' };
}
