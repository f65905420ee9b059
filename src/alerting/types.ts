import type { AlertSeverity as Severity } from '../config/index.js';
import type { IncidentEventRecord, IncidentRecord, IncidentState, OutboxRecord, SilenceRecord } from '../store/index.js';

export type { Severity, IncidentState, IncidentEventRecord, SilenceRecord, OutboxRecord };
export type Incident = IncidentRecord;

/**
 * What a condition source reports about one alert: it holds (`firing`) or it
 * cleared. An alert is one (rule, subject); alerts of one rule with the same
 * group value (labels[groupBy], else the subject) share one incident.
 */
export interface Signal {
  rule: string;
  /** What the alert is about: `service/api`, `endpoint/api/us-east-1a-1`, `policy/main-db`. */
  subject: string;
  firing: boolean;
  at: number;
  /** One line for people: "api is down (all 3 endpoints failing)". */
  summary: string;
  /** service, database, zone, region, tier, endpoint, policy: for grouping, inhibition, silences and templates. */
  labels: Record<string, string>;
  /** One-shot events (a failover happened) fire once and clear by themselves. */
  oneShot?: boolean;
}

export type NotificationKind = 'trigger' | 'escalate' | 'acknowledge' | 'resolve' | 'update_due' | 'review_due' | 'summary';

/** One message to one channel, as the outbox stores it and a channel sends it. */
export interface OutgoingMessage {
  kind: NotificationKind;
  incidentId: number | null;
  /** PagerDuty's dedup_key; the incident's key. */
  dedupKey: string;
  severity: Severity;
  subject: string;
  /** Plain text body. */
  text: string;
  /** HTML body for email, rendered with every value escaped. */
  html?: string;
  links: { acknowledge?: string; resolve?: string; view?: string };
  /** Recipient override: a person's email address or phone number. */
  to?: string[];
  /** Same key, same message: receivers that support it drop repeats (`Idempotency-Key`, PagerDuty dedup). */
  idempotencyKey: string;
  /** Flat values for structured payloads: service, status, started_at, … */
  fields: Record<string, string>;
  /** Extra email headers (List-Unsubscribe for status page subscribers); ours win on a clash. */
  headers?: Record<string, string>;
}

export type DeliveryResult =
  | { ok: true; detail?: string }
  | { ok: false; retryable: boolean; error: string; retryAfterMs?: number };

/** A configured alert channel. `send` never throws: failures come back as a result. */
export interface Channel {
  readonly name: string;
  readonly type: string;
  send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryResult>;
  close?(): Promise<void>;
}

export type LinkAction = 'acknowledge' | 'resolve';

/** An incident as `GET /incidents/:id` shows it: the record, its timeline, its notifications, and the template variables. */
export interface IncidentDetail {
  incident: Incident;
  timeline: IncidentEventRecord[];
  notifications: Array<Pick<OutboxRecord, 'id' | 'channel' | 'kind' | 'state' | 'attempts' | 'createdAt' | 'deliveredAt' | 'lastError'> & { to?: string[] }>;
  vars: Record<string, string>;
}

/** A disaster declaration (`declare:` of a runbook step): see declare.ts. */
export interface DeclareRequest {
  /** One open declared incident per key (a runbook's name): a repeat joins it. */
  key: string;
  title: string;
  severity: Severity;
  /** Services or databases shown as affected on the status page. */
  components: string[];
  /** The public update. */
  message: string;
  /** Channels, people, schedules or roles told at once. */
  notify: string[];
  policy?: string;
  template?: string;
  /** Declare on this open incident instead of opening one. */
  incidentId?: number;
}

/** What the API and the CLI may do with incidents and silences; `actor` is who (a token name, or the signed link's recipient). */
export interface IncidentActions {
  list(query: { states?: IncidentState[]; limit: number }): Promise<Incident[]>;
  /** Throws NOT_FOUND. */
  detail(id: number): Promise<IncidentDetail>;
  /** Stops the escalation. Acknowledging an acknowledged incident changes nothing; a resolved one is BAD_REQUEST. */
  acknowledge(id: number, actor: string): Promise<Incident>;
  resolve(id: number, actor: string, details?: { rootCause?: string; resolution?: string }): Promise<Incident>;
  /** A note on the timeline; it counts as the public update the owner owes (resets the "next update due" reminder). */
  /** `public`: also an update on the public status page (never the internal title or error texts). */
  note(id: number, actor: string, text: string, options?: { public?: boolean }): Promise<Incident>;
  assign(id: number, actor: string, owner: string): Promise<Incident>;
  /** Declare a disaster: on the incident named, else on a new one; a public update and the notifications in one transaction. */
  declare(request: DeclareRequest, actor: string): Promise<Incident>;
  /** Checks a signed link's parameters; throws AUTH_INVALID when the signature is wrong or it expired. */
  verifyLink(params: { id: number; action: LinkAction; actor: string; expires: number; signature: string }): Promise<void>;
  addSilence(input: { matchers: Record<string, string>; durationMs: number; createdBy: string; comment: string; startsAt?: number }): Promise<SilenceRecord>;
  listSilences(includeExpired: boolean): Promise<SilenceRecord[]>;
  expireSilence(id: number, actor: string): Promise<SilenceRecord>;
}
