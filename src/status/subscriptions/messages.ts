import type { OutboxInput, StatusSubscriber } from '../../store/index.js';

/**
 * What subscribers receive, in public wording only: the component names, the
 * status, an operator's public note, links to the page. Never an incident's
 * internal title, labels, hosts or error texts.
 */

const HOUR_MS = 3_600_000;

export interface SubscriptionMessageContext {
  title: string;
  base: string;
  now: number;
  /** The unsubscribe token of the subscriber. */
  unsubscribeToken: string;
  /** `alerting.channels[name].deadline` of the channel used, when configured. */
  deadlineMs?: number;
  /** A webhook subscriber's signing secret. */
  webhookSecret?: string;
}

export interface StatusUpdate {
  incidentId: number;
  eventId: number;
  /** `Outage of api` */
  name: string;
  components: string[];
  /** Investigating, Identified, Update, Resolved */
  status: string;
  body: string;
}

export function unsubscribeUrl(ctx: Pick<SubscriptionMessageContext, 'base' | 'unsubscribeToken'>): string {
  return `${ctx.base}/unsubscribe?token=${encodeURIComponent(ctx.unsubscribeToken)}`;
}

/** RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs `List-Unsubscribe=One-Click` to the URL. */
export function listUnsubscribeHeaders(ctx: Pick<SubscriptionMessageContext, 'base' | 'unsubscribeToken'>): Record<string, string> {
  return { 'List-Unsubscribe': `<${unsubscribeUrl(ctx)}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

function footer(ctx: SubscriptionMessageContext): string {
  return `You receive this because this address subscribed to ${ctx.title} status updates.\nUnsubscribe: ${unsubscribeUrl(ctx)}\n`;
}

function row(key: string, channel: string, kind: string, incidentId: number | null, message: unknown, ctx: SubscriptionMessageContext): OutboxInput {
  return { idempotencyKey: key, channel, incidentId, kind, message, createdAt: ctx.now, deadlineAt: ctx.now + (ctx.deadlineMs ?? HOUR_MS) };
}

export function confirmationEmail(subscriber: StatusSubscriber, channel: string, confirmToken: string, confirmWithinMs: number, ctx: SubscriptionMessageContext): OutboxInput {
  const link = `${ctx.base}/subscribe/confirm?token=${encodeURIComponent(confirmToken)}`;
  const hours = Math.round(confirmWithinMs / HOUR_MS);
  const text = `Someone, probably you, asked to receive ${ctx.title} status updates at ${subscriber.address}.\n\n`
    + `Confirm your subscription (the link works for ${hours} hour${hours === 1 ? '' : 's'}):\n${link}\n\n`
    + `If it was not you, ignore this email: nothing will be sent to you.\n`;
  return row(`status-confirm-${subscriber.id}`, channel, 'status_confirm', null, {
    kind: 'summary', incidentId: null, dedupKey: `status-subscriber-${subscriber.id}`, severity: 'info',
    subject: `Confirm your subscription to ${ctx.title} status updates`, text, links: {}, to: [subscriber.address],
    idempotencyKey: `status-confirm-${subscriber.id}`, fields: {}, headers: listUnsubscribeHeaders(ctx),
  }, ctx);
}

export function updateKey(update: Pick<StatusUpdate, 'incidentId' | 'eventId'>, subscriber: Pick<StatusSubscriber, 'id'>): string {
  return `status-${update.incidentId}-${update.eventId}-${subscriber.id}`;
}

/** One update to one subscriber: an email through `emailChannel`, or a POST through the subscribers' webhook channel. */
export function updateMessage(update: StatusUpdate, subscriber: StatusSubscriber, channel: string, ctx: SubscriptionMessageContext): OutboxInput {
  const key = updateKey(update, subscriber);
  const view = `${ctx.base}/incidents/${update.incidentId}`;
  const subject = `[${ctx.title}] ${update.name}: ${update.status}`;
  const text = `${update.status}: ${update.body}\n\nAffected: ${update.components.join(', ')}\nDetails: ${view}\n\n${footer(ctx)}`;
  const fields: Record<string, string> = {
    incident_id: String(update.incidentId), incident: update.name, components: update.components.join(','), status: update.status.toLowerCase(),
    body: update.body, unsubscribe: unsubscribeUrl(ctx),
  };
  const email = subscriber.kind === 'email';
  // Not tied to the incident's row: its detail in the admin API would list every subscriber.
  return row(key, channel, 'status_update', null, {
    kind: 'summary', incidentId: update.incidentId, dedupKey: `status-incident-${update.incidentId}`, severity: 'info', subject, text,
    links: { view }, idempotencyKey: key, fields: email ? fields : { ...fields, url: subscriber.address, ...(ctx.webhookSecret ? { secret: ctx.webhookSecret } : {}) },
    ...(email ? { to: [subscriber.address], headers: listUnsubscribeHeaders(ctx) } : {}),
  }, ctx);
}
