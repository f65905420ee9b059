import { STATUS_SUBSCRIBERS_CHANNEL } from '../../alerting/index.js';
import type { BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { AlertingStore, IncidentEventRecord, IncidentRecord, OutboxInput, StatusSubscriber, StatusSubscribersStore } from '../../store/index.js';
import { incidentComponents, pageComponents } from '../components.js';
import { publicTitle } from '../incidents.js';
import { updateMessage, type StatusUpdate } from './messages.js';
import { newSubscriptionKey, SUBSCRIPTION_KEY_SETTING, subscriptionToken, webhookSecret } from './tokens.js';

export interface FanoutDeps {
  store: { readonly statusSubscribers: StatusSubscribersStore; readonly alerting: Pick<AlertingStore, 'enqueue' | 'setting' | 'incident'> };
  config: () => BulwarkConfig;
  log: Logger;
  /** Links when `status_page.public_url` is not set: the status listener's address. */
  baseUrl: () => string;
  now?: () => number;
  queued?: () => void;
  intervalMs?: number;
}

export const FANOUT_CURSOR = 'status_subscriptions';
const BATCH = 500;

/** The timeline entries subscribers hear about, in the page's public words; null for the others. */
export function publicEvent(event: IncidentEventRecord, components: string): Pick<StatusUpdate, 'status' | 'body'> | null {
  switch (event.kind) {
    case 'opened': return { status: 'Investigating', body: `We are investigating a disruption of ${components}.` };
    case 'acknowledged': return { status: 'Identified', body: 'The issue has been identified and is being worked on.' };
    case 'resolved': return { status: 'Resolved', body: 'This incident has been resolved.' };
    case 'note': {
      const data = (event.data ?? {}) as { text?: unknown; public?: unknown };
      return data.public === true && typeof data.text === 'string' && data.text.trim() !== '' ? { status: 'Update', body: data.text.trim() } : null;
    }
    default: return null;
  }
}

function wants(subscriber: StatusSubscriber, event: IncidentEventRecord, components: readonly string[]): boolean {
  if (subscriber.confirmedAt === null || subscriber.confirmedAt > event.at) return false;
  return subscriber.components.length === 0 || subscriber.components.some((c) => components.includes(c));
}

/**
 * Every 2 s: incident timeline entries after the cursor become one outbox row
 * per confirmed subscriber, keyed `status-<incident>-<event>-<subscriber>`.
 * The cursor moves only after the rows are queued, and a key is queued once,
 * so a crash in between repeats nothing.
 */
export class SubscriptionFanout {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly deps: FanoutDeps) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.pass()).catch((err: unknown) => this.deps.log.error({ err: (err as Error).message }, 'status subscriptions: fan-out failed; retrying'));
    }, this.deps.intervalMs ?? 2_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; returns how many rows were newly queued. */
  async pass(): Promise<number> {
    const { store } = this.deps;
    let queued = 0;
    for (;;) {
      const after = (await store.statusSubscribers.cursor(FANOUT_CURSOR)) ?? 0;
      const events = await store.statusSubscribers.incidentEventsAfter(after, BATCH);
      if (events.length === 0) break;
      const rows = await this.rowsFor(events);
      if (rows.length > 0) queued += await store.alerting.enqueue(rows);
      await store.statusSubscribers.setCursor(FANOUT_CURSOR, events[events.length - 1]!.id);
      if (events.length < BATCH) break;
    }
    if (queued > 0) this.deps.queued?.();
    return queued;
  }

  private async rowsFor(events: readonly IncidentEventRecord[]): Promise<OutboxInput[]> {
    const config = this.deps.config();
    const page = config.status_page;
    if (!page) return [];
    const subscribers = await this.deps.store.statusSubscribers.confirmedSubscribers();
    if (subscribers.length === 0) return [];
    const shown = new Set(pageComponents(config).map((c) => c.name));
    const key = await this.deps.store.alerting.setting(SUBSCRIPTION_KEY_SETTING, newSubscriptionKey);
    const incidents = new Map<number, IncidentRecord | null>();
    const rows: OutboxInput[] = [];
    for (const event of events) {
      if (!incidents.has(event.incidentId)) incidents.set(event.incidentId, await this.deps.store.alerting.incident(event.incidentId));
      const incident = incidents.get(event.incidentId);
      const components = incident ? incidentComponents(incident, shown) : [];
      const said = components.length > 0 ? publicEvent(event, components.join(', ')) : null;
      if (!incident || !said) continue;
      const update: StatusUpdate = { incidentId: incident.id, eventId: event.id, name: publicTitle(incident.severity, components), components, ...said };
      for (const subscriber of subscribers) {
        if (!wants(subscriber, event, components)) continue;
        const row = this.rowFor(config, update, subscriber, key);
        if (row) rows.push(row);
      }
    }
    return rows;
  }

  private rowFor(config: BulwarkConfig, update: StatusUpdate, subscriber: StatusSubscriber, key: string): OutboxInput | null {
    const page = config.status_page!;
    const channel = subscriber.kind === 'email' ? page.subscriptions.email_channel : page.subscriptions.webhooks ? STATUS_SUBSCRIBERS_CHANNEL : undefined;
    if (channel === undefined) return null;
    const base = (page.public_url ?? this.deps.baseUrl()).replace(/\/+$/, '');
    const deadlineMs = config.alerting?.channels[channel]?.deadline;
    const unsubscribeToken = subscriptionToken(key, 'unsubscribe', subscriber.id);
    const secret = subscriber.kind === 'webhook' ? webhookSecret(key, subscriber.id) : undefined;
    return updateMessage(update, subscriber, channel, { title: page.title, base, now: this.now(), unsubscribeToken, deadlineMs, webhookSecret: secret });
  }
}
