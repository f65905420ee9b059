import { formatDurationShort } from '../../config/index.js';
import type { IncidentEventRecord, IncidentRecord, OutboxRecord } from '../../store/index.js';

/** The incident as the API sends it. */
export type IncidentAnswer = IncidentRecord;

/** `GET /api/v1/incidents/:id`, as the CLI reads it. */
export interface IncidentDetailAnswer {
  incident: IncidentAnswer;
  timeline: IncidentEventRecord[];
  notifications: Array<Pick<OutboxRecord, 'id' | 'channel' | 'kind' | 'state' | 'attempts' | 'createdAt' | 'deliveredAt' | 'lastError'> & { to?: string[] }>;
  vars?: Record<string, string>;
}

const TITLE_WIDTH = 60;

/** Columns padded to their widest cell; the last column is never padded. */
export function table(rows: string[][], indent = ''): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => `${indent}${r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd());
}

/** Whole units only, two at most: `3d4h`, `2h13m`, `45s`. */
export function age(ms: number): string {
  if (ms < 1000) return '0s';
  const steps = [86_400_000, 3_600_000, 60_000, 1000];
  const first = steps.findIndex((s) => ms >= s);
  const unit = steps[first] ?? 1000;
  const next = steps[first + 1];
  const rounded = Math.floor(ms / unit) * unit + (next === undefined ? 0 : Math.floor((ms % unit) / next) * next);
  return formatDurationShort(rounded);
}

export function time(at: number | null | undefined): string {
  return at === null || at === undefined ? '-' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

export function renderIncidents(incidents: IncidentAnswer[], now: number): string {
  const rows = [['ID', 'STATE', 'SEVERITY', 'AGE', 'TITLE', 'OWNER']];
  for (const i of incidents) {
    rows.push([String(i.id), i.state.toUpperCase(), i.severity, age(now - i.openedAt), clip(i.title, TITLE_WIDTH), i.owner ?? '-']);
  }
  return table(rows).join('\n');
}

export function renderDetail(detail: IncidentDetailAnswer, now: number): string {
  const i = detail.incident;
  const fields: Array<[string, string | null]> = [
    ['state', i.state.toUpperCase() + (i.flapping ? ' (flapping)' : '')],
    ['severity', i.severity],
    ['rule', i.rule],
    ['policy', i.policy],
    ['opened', `${time(i.openedAt)} (${age(now - i.openedAt)} ago)`],
    ['acknowledged', i.acknowledgedAt === null ? null : `${time(i.acknowledgedAt)} by ${i.acknowledgedBy ?? '?'}`],
    ['resolved', i.resolvedAt === null ? null : `${time(i.resolvedAt)} by ${i.resolvedBy ?? '?'}`],
    ['owner', i.owner],
    ['labels', Object.entries(i.labels).map(([k, v]) => `${k}=${v}`).join(' ') || null],
    ['alerts', i.alerts.join(', ') || null],
    ['root cause', i.rootCause],
    ['resolution', i.resolution],
    ['next update', i.state === 'resolved' ? null : time(i.reminderAt)],
  ];
  const lines = [`Incident ${i.id}: ${i.title}`, ...table(fields.filter(([, v]) => v !== null).map(([k, v]) => [`${k}:`, v ?? '']), '  ')];
  lines.push('', 'Timeline', ...timelineLines(detail.timeline));
  lines.push('', 'Notifications', ...notificationLines(detail.notifications));
  return lines.join('\n');
}

function timelineLines(events: IncidentEventRecord[]): string[] {
  if (events.length === 0) return ['  (none)'];
  return events.map((e) => `  ${time(e.at)}  ${e.kind.padEnd(14)}  ${e.actor}${eventData(e.data)}`);
}

/** The event's data on one line: a note's text, a change's values. */
function eventData(data: unknown): string {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return `: ${clip(data, 200)}`;
  if (typeof data !== 'object') return `: ${String(data)}`;
  const parts = Object.entries(data as Record<string, unknown>).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length === 0 ? '' : `: ${clip(parts.join(' '), 200)}`;
}

function notificationLines(notifications: IncidentDetailAnswer['notifications']): string[] {
  if (notifications.length === 0) return ['  (none)'];
  const rows = [['ID', 'CHANNEL', 'KIND', 'STATE', 'ATTEMPTS', 'CREATED', 'DELIVERED', 'LAST ERROR']];
  for (const n of notifications) {
    const channel = n.to && n.to.length > 0 ? `${n.channel} → ${n.to.join(', ')}` : n.channel;
    rows.push([String(n.id), channel, n.kind, n.state, String(n.attempts), time(n.createdAt), time(n.deliveredAt), n.lastError ? clip(n.lastError, 80) : '-']);
  }
  return table(rows, '  ');
}
