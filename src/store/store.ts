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
}

export interface NewConfigRevision {
  checksum: string;
  source: string;
}

export interface MigrationResult {
  from: number;
  to: number;
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';

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
}
