import type { AlertingStore } from './alerting-types.js';
import type { StatusSubscribersStore } from './status-subscribers-types.js';
import type { DrillRunsStore } from './drill-runs-types.js';

/**
 * Bulwark's own state and history: API tokens, events, config revisions.
 * One interface, two backends (SQLite for a single node, PostgreSQL for a
 * shared store); see `sqlite.ts` and `postgres.ts`.
 */

/** A token as the store knows it. The hash never leaves the store in a record. */
export interface TokenRecord {
  id: number;
  name: string;
  /** The first characters of the token, to tell tokens apart in listings. */
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface NewToken {
  name: string;
  /** sha256 hex of the token; see `src/auth/tokens.ts`. */
  hash: string;
  prefix: string;
}

export interface EventRecord {
  id: number;
  at: string;
  subsystem: string;
  kind: string;
  subject: string;
  data: unknown;
}

export interface NewEvent {
  subsystem: string;
  kind: string;
  subject: string;
  /** Any JSON-serialisable value; stored as JSON text. */
  data?: unknown;
}

export interface RecentEventsQuery {
  limit: number;
  subsystem?: string;
}

export interface ConfigRevision {
  id: number;
  checksum: string;
  source: string;
  recordedAt: string;
  /** The file as applied, inline secrets redacted; null for revisions recorded before Bulwark kept it. */
  text: string | null;
}

export interface NewConfigRevision {
  checksum: string;
  source: string;
  text?: string;
}

/** One check's outcome; `at` is epoch milliseconds. */
export interface ProbeResultInput {
  target: string;
  at: number;
  ok: boolean;
  durationMs: number;
  reason?: string | null;
}

export interface ProbeResultRecord {
  target: string;
  at: number;
  ok: boolean;
  durationMs: number;
  reason: string | null;
}

/** Buckets start at the UTC minute, hour or day (epoch ms, floored). */
export type RollupResolution = 'minute' | 'hour' | 'day';

export const ROLLUP_BUCKET_MS: Readonly<Record<RollupResolution, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

export interface ProbeRollup {
  target: string;
  resolution: RollupResolution;
  /** Start of the bucket, epoch ms. */
  bucket: number;
  checks: number;
  ok: number;
  durationSumMs: number;
  durationMaxMs: number;
}

export interface ProbeRollupsQuery {
  target: string;
  resolution: RollupResolution;
  /** Buckets that overlap [since, until] are returned, oldest first. */
  since: number;
  until: number;
}

export type SubjectKind = 'target' | 'service' | 'database' | 'agent';

export interface NewStateChange {
  subjectKind: SubjectKind;
  subject: string;
  from: string;
  to: string;
  at: number;
  reason?: string | null;
}

export interface StateChange {
  id: number;
  subjectKind: SubjectKind;
  subject: string;
  from: string;
  to: string;
  at: number;
  reason: string | null;
}

export interface StateChangesQuery {
  subjectKind: SubjectKind;
  /** All subjects of the kind when absent. */
  subject?: string;
  since: number;
  /** Open-ended when absent. */
  until?: number;
}

/** How long each kind of probe history is kept, in ms. */
export interface ProbeRetention {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
  dayMs: number;
  stateChangesMs: number;
}

const DAY_MS = 86_400_000;

export const DEFAULT_PROBE_RETENTION: Readonly<ProbeRetention> = {
  rawMs: DAY_MS / 24,
  minuteMs: 2 * DAY_MS,
  hourMs: 90 * DAY_MS,
  dayMs: 400 * DAY_MS,
  stateChangesMs: 400 * DAY_MS,
};

/** Rows deleted per table. */
export interface PruneResult {
  raw: number;
  minute: number;
  hour: number;
  day: number;
  stateChanges: number;
}

export type BackupRunKind = 'backup' | 'verify';

/** One copy target of a backup run, or one repository checked by a verify run. */
export interface BackupCopyRecord {
  repository: string;
  ok: boolean;
  snapshotId: string | null;
  error: string | null;
  durationMs: number;
}

/** A finished backup or verify run of a policy; times are epoch milliseconds. */
export interface BackupRunRecord {
  /** The run id handed out when the run was started. */
  id: string;
  policy: string;
  kind: BackupRunKind;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  ok: boolean;
  partial: boolean;
  /** The repository written to (backup) or the first one checked (verify). */
  repository: string;
  snapshotId: string | null;
  bytes: number | null;
  addedBytes: number | null;
  storedBytes: number | null;
  files: number | null;
  error: string | null;
  copies: BackupCopyRecord[];
}

export interface BackupRunsQuery {
  /** Every policy when absent. */
  policy?: string;
  kind?: BackupRunKind;
  /** Clamped to 1..1000. */
  limit: number;
}

/** The latest run of a policy's kind, and its latest successful one (`ok`, partial or not). */
export interface LastBackupRuns {
  policy: string;
  kind: BackupRunKind;
  last: BackupRunRecord;
  lastSuccess: BackupRunRecord | null;
}

export interface MigrationResult {
  from: number;
  to: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /** Incidents, their timeline, the notification outbox and silences. */
  readonly alerting: AlertingStore;
  /** The status page's subscribers and its fan-out cursor. */
  readonly statusSubscribers: StatusSubscribersStore;
  /** Drill runs and their reports. */
  readonly drillRuns: DrillRunsStore;

  /**
   * Apply pending migrations, each in its own transaction. Throws
   * STORE_SCHEMA_TOO_NEW, without touching anything, when the database was
   * migrated by a newer Bulwark.
   */
  migrate(): Promise<MigrationResult>;
  /** Highest applied migration; 0 for an empty database. */
  schemaVersion(): Promise<number>;
  /** Safe to call twice. */
  close(): Promise<void>;

  /** Throws BAD_REQUEST when a non-revoked token already has this name. */
  createToken(token: NewToken): Promise<TokenRecord>;
  /** Only non-revoked tokens match. */
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /** Every token, revoked ones included, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Throws NOT_FOUND when no non-revoked token has this name. */
  revokeToken(name: string): Promise<TokenRecord>;
  touchToken(id: number): Promise<void>;

  appendEvent(event: NewEvent): Promise<EventRecord>;
  /** Newest first. */
  recentEvents(query: RecentEventsQuery): Promise<EventRecord[]>;

  recordConfigRevision(revision: NewConfigRevision): Promise<ConfigRevision>;
  latestConfigRevision(): Promise<ConfigRevision | null>;
  /** Newest first. */
  listConfigRevisions(limit: number): Promise<ConfigRevision[]>;
  configRevision(id: number): Promise<ConfigRevision | null>;

  /**
   * Stores raw results and folds them into the minute, hour and day rollups,
   * all in one transaction. Meant to be called about once a second with
   * everything checked since the last call.
   */
  recordProbeResults(rows: readonly ProbeResultInput[]): Promise<void>;
  recordStateChange(change: NewStateChange): Promise<StateChange>;
  /**
   * Changes with `since <= at <= until`, oldest first, preceded by the last
   * change before `since` of each matching subject (the state at `since`).
   */
  stateChanges(query: StateChangesQuery): Promise<StateChange[]>;
  probeRollups(query: ProbeRollupsQuery): Promise<ProbeRollup[]>;
  /** Newest first; `limit` is clamped to 1..1000. */
  latestProbeResults(target: string, limit: number): Promise<ProbeResultRecord[]>;
  /**
   * Deletes history older than each retention, counted back from `now`.
   * Of the state changes older than the cutoff, the last one of each subject
   * is kept: it says what state the subject was in at the cutoff.
   */
  pruneProbeHistory(retention: ProbeRetention, now: number): Promise<PruneResult>;
  /** Bytes on disk: the whole SQLite file, or the probe-history tables on PostgreSQL. */
  storageBytes(): Promise<number | null>;

  /** Throws BAD_REQUEST when a run with this id is already recorded. */
  recordBackupRun(run: BackupRunRecord): Promise<void>;
  /** Newest first (by start time). */
  listBackupRuns(query: BackupRunsQuery): Promise<BackupRunRecord[]>;
  /** One entry per (policy, kind) that has any run recorded. */
  lastBackupRuns(): Promise<LastBackupRuns[]>;
}
