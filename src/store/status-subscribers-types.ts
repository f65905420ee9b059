import type { IncidentEventRecord } from './alerting-types.js';

/**
 * Status page subscribers: people (email) and systems (webhook) told about
 * public incident updates. Times are epoch milliseconds.
 */

export type SubscriberKind = 'email' | 'webhook';

export interface StatusSubscriber {
  id: number;
  kind: SubscriberKind;
  /** An email address (lower-cased) or an http(s) URL. */
  address: string;
  /** Component names; empty means every component. */
  components: string[];
  createdAt: number;
  /** Null while waiting for the double opt-in. */
  confirmedAt: number | null;
  /** Set when unsubscribed, or when a pending row expired and was replaced. */
  unsubscribedAt: number | null;
}

export type NewStatusSubscriber = Pick<StatusSubscriber, 'kind' | 'address' | 'components' | 'createdAt'>;

export interface SubscribeOptions {
  /** Confirmed at once (a webhook that answered its challenge). */
  confirmed?: boolean;
  /** A pending row created before this instant has expired: it is retired and a new one made. */
  pendingExpiredBefore: number;
}

export interface StatusSubscribersStore {
  /**
   * A new subscriber, unless an active one exists for (kind, address): then
   * that one is returned with `created: false` and nothing changes.
   */
  subscribe(subscriber: NewStatusSubscriber, options: SubscribeOptions): Promise<{ subscriber: StatusSubscriber; created: boolean }>;
  subscriber(id: number): Promise<StatusSubscriber | null>;
  /** Confirms a pending, active subscriber; returns it (also when it was confirmed already), or null when unknown or unsubscribed. */
  confirm(id: number, at: number): Promise<StatusSubscriber | null>;
  /** Returns the row; unsubscribing twice keeps the first time. Null when unknown. */
  unsubscribe(id: number, at: number): Promise<StatusSubscriber | null>;
  /** Confirmed and not unsubscribed, oldest first. */
  confirmedSubscribers(): Promise<StatusSubscriber[]>;
  /** Incident timeline entries with id > `afterId`, oldest first, at most `limit` (1..1000). */
  incidentEventsAfter(afterId: number, limit: number): Promise<IncidentEventRecord[]>;
  /** A named position (the fan-out's last incident event id); null before the first `setCursor`. */
  cursor(name: string): Promise<number | null>;
  setCursor(name: string, value: number): Promise<void>;
}
