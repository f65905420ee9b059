import type { AlertingConfig, BulwarkConfig } from '../config/index.js';
import type { OutboxInput } from '../store/index.js';
import { signedLink } from './links.js';
import type { Delivery } from './targets.js';
import { renderTemplate, templateFor } from './templates.js';
import type { Incident, NotificationKind, OutgoingMessage } from './types.js';
import { incidentVars, linkVars } from './vars.js';

/**
 * Turns (incident, kind, deliveries) into outbox rows: one rendered message
 * per channel and recipient, with signed links for that recipient and an
 * idempotency key that names the step, so a step queued twice is queued once.
 */

export interface NotifyContext {
  config: BulwarkConfig;
  alerting: AlertingConfig;
  now: number;
  /** Where links point: `alerting.public_url`, or the admin API's address. */
  baseUrl: string;
  linkKey: string;
  /** The rule's own templates, when it names any. */
  template?: string | null;
  resolutionTemplate?: string | null;
}

export function idempotencyKey(incidentId: number, step: string, d: Pick<Delivery, 'channel' | 'to'>): string {
  return `incident-${incidentId}.${step}.${d.channel}${d.to?.length ? `.${d.to.join(',')}` : ''}`;
}

function links(incident: Incident, recipient: string, ctx: NotifyContext): OutgoingMessage['links'] {
  if (incident.state === 'resolved') return {};
  const expires = Math.floor((ctx.now + ctx.alerting.link_ttl) / 1000);
  const sign = (action: 'acknowledge' | 'resolve') => signedLink(ctx.baseUrl, ctx.linkKey, { id: incident.id, action, actor: recipient, expires });
  return incident.state === 'triggered' ? { acknowledge: sign('acknowledge'), resolve: sign('resolve') } : { resolve: sign('resolve') };
}

function templateName(kind: NotificationKind, ctx: NotifyContext): string | undefined {
  if (kind === 'trigger' || kind === 'escalate') return ctx.template ?? undefined;
  if (kind === 'resolve') return ctx.resolutionTemplate ?? undefined;
  return undefined;
}

/** `shared`: the incident's variables without links, computed once for every recipient of one step (`outboxRows`). */
export function renderMessage(incident: Incident, kind: NotificationKind, delivery: Delivery, step: string, ctx: NotifyContext, shared?: Record<string, string>): OutgoingMessage {
  const messageLinks = links(incident, delivery.recipient, ctx);
  const vars = shared ? { ...shared, ...linkVars(messageLinks) } : incidentVars(incident, { config: ctx.config, now: ctx.now, links: messageLinks });
  let template = templateFor(kind, ctx.config, templateName(kind, ctx));
  if (template.channels && !template.channels.includes(delivery.channel)) template = templateFor(kind, { communication_templates: {} });
  const isEmail = ctx.alerting.channels[delivery.channel]?.email !== undefined;
  const rendered = renderTemplate(template, vars, { html: isEmail });
  return {
    kind,
    incidentId: incident.id,
    dedupKey: incident.key,
    severity: incident.severity,
    subject: rendered.subject,
    text: withLinks(rendered.text, messageLinks),
    ...(rendered.html !== undefined ? { html: withHtmlLinks(rendered.html, messageLinks) } : {}),
    links: messageLinks,
    ...(delivery.to ? { to: delivery.to } : {}),
    idempotencyKey: idempotencyKey(incident.id, step, delivery),
    fields: { service: vars.service!, status: incident.state, severity: incident.severity, started_at: vars.started_at!, rule: incident.rule, recipient: delivery.recipient, via: delivery.via },
  };
}

/** Templates need not mention the links; they are appended unless the template placed them. */
function withLinks(text: string, l: OutgoingMessage['links']): string {
  const lines = [l.acknowledge && !text.includes(l.acknowledge) ? `Acknowledge: ${l.acknowledge}` : undefined, l.resolve && !text.includes(l.resolve) ? `Resolve: ${l.resolve}` : undefined].filter(Boolean);
  return lines.length ? `${text.trimEnd()}\n\n${lines.join('\n')}\n` : text;
}

function withHtmlLinks(html: string, l: OutgoingMessage['links']): string {
  const a = (href: string, label: string) => `<a href="${href.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">${label}</a>`;
  const parts = [l.acknowledge ? a(l.acknowledge, 'Acknowledge') : undefined, l.resolve ? a(l.resolve, 'Resolve') : undefined].filter(Boolean);
  return parts.length ? `${html}<p>${parts.join(' · ')}</p>` : html;
}

export function outboxRows(incident: Incident, kind: NotificationKind, deliveries: readonly Delivery[], step: string, ctx: NotifyContext, notBefore?: number): OutboxInput[] {
  const shared = deliveries.length > 0 ? incidentVars(incident, { config: ctx.config, now: ctx.now }) : undefined;
  return deliveries.map((d) => {
    const message = renderMessage(incident, kind, d, step, ctx, shared);
    const deadline = ctx.alerting.channels[d.channel]?.deadline ?? 3_600_000;
    const start = notBefore ?? ctx.now;
    return {
      idempotencyKey: message.idempotencyKey, channel: d.channel, incidentId: incident.id, kind, message,
      createdAt: ctx.now, ...(notBefore !== undefined ? { notBefore } : {}), deadlineAt: start + deadline,
    };
  });
}
