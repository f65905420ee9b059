import type { IncidentEventRecord, IncidentRecord } from '../store/index.js';
import { incidentComponents } from './components.js';
import type { Impact, PublicIncident, PublicIncidentStatus, PublicUpdate } from './types.js';

/**
 * An incident as the public page tells it. Built from an allow-list: the
 * component names, words chosen here, times, and the notes an operator marked
 * public (`bulwark incident note ID --public TEXT`). Titles, rules, labels,
 * summaries and error texts stay inside: they name hosts, ports and URLs.
 */

const IMPACT: Record<IncidentRecord['severity'], Impact> = { critical: 'critical', warning: 'minor', info: 'none' };
const NOUN: Record<IncidentRecord['severity'], string> = { critical: 'Outage', warning: 'Disruption', info: 'Notice' };

export function publicStatus(incident: Pick<IncidentRecord, 'state' | 'clearSince'>): PublicIncidentStatus {
  if (incident.state === 'resolved') return 'resolved';
  if (incident.clearSince !== null) return 'monitoring';
  return incident.state === 'acknowledged' ? 'identified' : 'investigating';
}

function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export function publicTitle(severity: IncidentRecord['severity'], components: readonly string[]): string {
  return `${NOUN[severity]} of ${joinNames(components)}`;
}

/** The automatic update an event of the timeline makes, if any. */
function automaticUpdate(event: IncidentEventRecord, components: string): PublicUpdate | null {
  switch (event.kind) {
    case 'opened': return { status: 'investigating', body: `We are investigating a disruption of ${components}.`, at: event.at };
    case 'recurred': return { status: 'investigating', body: `The disruption of ${components} has recurred; we are investigating.`, at: event.at };
    case 'acknowledged': return { status: 'identified', body: 'The issue has been identified and is being worked on.', at: event.at };
    case 'alert_cleared': return { status: 'monitoring', body: `${components} is recovering; we are monitoring it.`, at: event.at };
    case 'resolved': return { status: 'resolved', body: 'This incident has been resolved.', at: event.at };
    default: return null;
  }
}

function publicNote(event: IncidentEventRecord): string | null {
  if (event.kind !== 'note' || typeof event.data !== 'object' || event.data === null) return null;
  const data = event.data as { text?: unknown; public?: unknown };
  return data.public === true && typeof data.text === 'string' && data.text.trim() !== '' ? data.text : null;
}

/** Oldest first in, newest first out; automatic updates that repeat the status before them are left out. */
export function publicUpdates(events: readonly IncidentEventRecord[], components: string): PublicUpdate[] {
  const out: PublicUpdate[] = [];
  let status: PublicIncidentStatus = 'investigating';
  for (const event of events) {
    const note = publicNote(event);
    if (note !== null) {
      out.push({ status, body: note, at: event.at });
      continue;
    }
    const update = automaticUpdate(event, components);
    if (update === null || (out.length > 0 && update.status === status)) continue;
    status = update.status;
    out.push(update);
  }
  return out.reverse();
}

/** Null for an incident that concerns no component on the page. */
export function publicIncident(incident: IncidentRecord, events: readonly IncidentEventRecord[], shown: ReadonlySet<string>): PublicIncident | null {
  const components = incidentComponents(incident, shown);
  if (components.length === 0) return null;
  const updates = publicUpdates(events, joinNames(components));
  return {
    id: incident.id,
    name: publicTitle(incident.severity, components),
    status: publicStatus(incident),
    impact: IMPACT[incident.severity],
    components,
    createdAt: incident.openedAt,
    updatedAt: Math.max(incident.openedAt, ...updates.map((u) => u.at)),
    resolvedAt: incident.resolvedAt,
    updates,
  };
}
