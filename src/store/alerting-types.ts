/**
 * Alerting's state in the store: incidents with their timeline, the outbox of
 * notifications, silences and small settings (the link-signing key). Times are
 * epoch milliseconds.
 */

export type IncidentState = 'triggered' | 'acknowledged' | 'resolved';
export type IncidentSeverity = 'critical' | 'warning' | 'info';

export interface IncidentRecord {
  id: number;
  /** One open incident per key (`rule:group`); a unique index enforces it. */
  key: string;
  rule: string;
  severity: IncidentSeverity;
  title: string;
  state: IncidentState;
  policy: string | null;
  labels: Record<string, string>;
  /** Subjects of the alerts grouped into it that are firing now. */
  alerts: string[];
  openedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  owner: string | null;
  /** Escalation: the next level (index into the policy's levels), its cycle, and when it is due; null when nothing is due. */
  nextLevel: number;
  cycle: number;
  nextAt: number | null;
  /** When the condition cleared; the incident resolves once it stays clear (flapping protection). */
  clearSince: number | null;
  flapping: boolean;
  rootCause: string | null;
  resolution: string | null;
  /** Next public update due (crisis communication), or the post-incident review after resolution. */
  reminderAt: number | null;
  updatedAt: number;
}

export type NewIncident = Pick<IncidentRecord, 'key' | 'rule' | 'severity' | 'title' | 'policy' | 'labels' | 'alerts' | 'openedAt' | 'nextAt' | 'reminderAt'>;

export type IncidentPatch = Partial<Omit<IncidentRecord, 'id' | 'key' | 'rule' | 'openedAt' | 'updatedAt'>>;

export interface IncidentEventInput {
  kind: string;
  /** Who: `bulwark` for the engine, a token name, `link:<who>` for a signed link. */
  actor: string;
  at: number;
  data?: unknown;
}

export interface IncidentEventRecord extends IncidentEventInput {
  id: number;
  incidentId: number;
}

export type OutboxState = 'pending' | 'sending' | 'delivered' | 'dead';

/** `lastError` of a row whose claim ended without an outcome (a crash mid-send, an expired lease): its next send may be a duplicate. */
export const OUTCOME_LOST = 'the previous attempt\'s outcome was lost (the sender stopped or its claim expired mid-send)';

export interface OutboxInput {
  /** (incident, step, channel[, recipient]): the same key is never queued twice. */
  idempotencyKey: string;
  channel: string;
  incidentId: number | null;
  kind: string;
  /** The rendered message, as JSON. */
  message: unknown;
  createdAt: number;
  /** Not sent before this instant (a reminder due later); default: at once. */
  notBefore?: number;
  /** Given up as dead after this instant. */
  deadlineAt: number;
}

export interface OutboxRecord extends OutboxInput {
  id: number;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  /** A claimed row is someone's until then; after, a crashed sender's claim is taken over. */
  leaseUntil: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

export type OutboxOutcome =
  | { state: 'delivered'; at: number }
  | { state: 'pending'; nextAttemptAt: number; error: string }
  /** Not sent (a rate limit): pending again, the claim not counted as an attempt, the last error kept. */
  | { state: 'deferred'; nextAttemptAt: number }
  | { state: 'dead'; error: string };

export interface SilenceInput {
  /** Label equality matchers (`service=api`, `rule=api:service_down`); all must match. */
  matchers: Record<string, string>;
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
}

export interface SilenceRecord extends SilenceInput {
  id: number;
  createdAt: number;
  expiredAt: number | null;
  expiredBy: string | null;
}

export interface IncidentsQuery {
  states?: IncidentState[];
  /** Clamped to 1..1000. */
  limit: number;
}

export interface AlertingStore {
  /**
   * Opens an incident for `key` unless one is open already (then it is returned
   * with `created: false` and nothing is written). The first timeline event and
   * the first notifications (made from the new incident) are written in the same transaction.
   */
  openIncident(incident: NewIncident, event: IncidentEventInput, outbox: (created: IncidentRecord) => readonly OutboxInput[]): Promise<{ incident: IncidentRecord; created: boolean }>;
  /** Patch, timeline events and notifications in one transaction. Throws NOT_FOUND for an unknown id. */
  updateIncident(id: number, patch: IncidentPatch, events: readonly IncidentEventInput[], outbox: readonly OutboxInput[]): Promise<IncidentRecord>;
  incident(id: number): Promise<IncidentRecord | null>;
  /** Newest first. */
  listIncidents(query: IncidentsQuery): Promise<IncidentRecord[]>;
  /** Every incident not resolved. */
  openIncidents(): Promise<IncidentRecord[]>;
  /** Oldest first. */
  incidentEvents(id: number): Promise<IncidentEventRecord[]>;

  /** Queues notifications outside an incident change (summaries); keys already queued are skipped. Returns how many were new. */
  enqueue(outbox: readonly OutboxInput[]): Promise<number>;
  /** Due rows (pending and due, or sending with an expired lease: their `lastError` becomes OUTCOME_LOST), oldest first, claimed until `leaseUntil`. */
  claimOutbox(now: number, limit: number, leaseUntil: number): Promise<OutboxRecord[]>;
  completeOutbox(id: number, outcome: OutboxOutcome): Promise<void>;
  /** Several outcomes in one transaction (one commit instead of one per row). */
  completeOutboxMany(outcomes: ReadonlyArray<{ id: number; outcome: OutboxOutcome }>): Promise<void>;
  /** At start, with one sender: rows a previous life claimed go back to pending at once, with `lastError` OUTCOME_LOST. Returns how many. */
  releaseClaims(): Promise<number>;
  /** Newest first; of one incident when given. */
  listOutbox(query: { incidentId?: number; limit: number }): Promise<OutboxRecord[]>;
  /** Rows per channel and state. */
  outboxCounts(): Promise<Array<{ channel: string; state: OutboxState; count: number }>>;
  /** When the earliest pending row is due (for the sender's timer); null when none. */
  nextOutboxDue(): Promise<number | null>;

  addSilence(silence: SilenceInput): Promise<SilenceRecord>;
  /** Every silence not expired whose end is after `now`, or all when `now` is absent. */
  listSilences(now?: number): Promise<SilenceRecord[]>;
  /** Throws NOT_FOUND when no such silence is active. */
  expireSilence(id: number, by: string, at: number): Promise<SilenceRecord>;

  /** A small persistent value, created from `create` the first time (the link-signing key). */
  setting(name: string, create: () => string): Promise<string>;
}
