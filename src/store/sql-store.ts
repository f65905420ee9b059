import { BulwarkError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { toIso, toIsoOrNull, type Row, type SqlDriver } from './driver.js';
import { readSchemaVersion, runMigrations } from './migrate.js';
import { MIGRATIONS } from './migrations.js';
import { ProbeHistory } from './probe-history.js';
import { BackupRuns } from './backup-runs.js';
import { AlertingTables } from './alerting.js';
import type { AlertingStore } from './alerting-types.js';
import { StatusSubscriberTables } from './status-subscribers.js';
import type { StatusSubscribersStore } from './status-subscribers-types.js';
import { DrillRunTables } from './drill-runs.js';
import type { DrillRunsStore } from './drill-runs-types.js';
import type {
  BackupRunRecord, BackupRunsQuery, LastBackupRuns, ConfigRevision, EventRecord, MigrationResult, NewConfigRevision, NewEvent, NewStateChange, NewToken,
  ProbeResultInput, ProbeResultRecord, ProbeRetention, ProbeRollup, ProbeRollupsQuery, PruneResult,
  RecentEventsQuery, StateChange, StateChangesQuery, Store, TokenRecord,
} from './store.js';

const TOKEN_COLUMNS = 'id, name, prefix, created_at, last_used_at, revoked_at';
const EVENT_COLUMNS = 'id, at, subsystem, kind, subject, data';
const REVISION_COLUMNS = 'id, checksum, source, recorded_at, text';
const MAX_EVENTS = 1000;

function tokenFromRow(r: Row): TokenRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    prefix: String(r.prefix),
    createdAt: toIso(r.created_at),
    lastUsedAt: toIsoOrNull(r.last_used_at),
    revokedAt: toIsoOrNull(r.revoked_at),
  };
}

function eventFromRow(r: Row): EventRecord {
  return {
    id: Number(r.id),
    at: toIso(r.at),
    subsystem: String(r.subsystem),
    kind: String(r.kind),
    subject: String(r.subject),
    data: JSON.parse(String(r.data)) as unknown,
  };
}

function revisionFromRow(r: Row): ConfigRevision {
  return { id: Number(r.id), checksum: String(r.checksum), source: String(r.source), recordedAt: toIso(r.recorded_at), text: r.text === null || r.text === undefined ? null : String(r.text) };
}

function first<T>(rows: T[], what: string): T {
  const [row] = rows;
  if (row === undefined) throw new BulwarkError('INTERNAL', `store returned no row for ${what}`);
  return row;
}

/** The Store, written once against `SqlDriver`; the backends differ only below it. */
export class SqlStore implements Store {
  private closed = false;
  private readonly history: ProbeHistory;
  private readonly backupRuns: BackupRuns;
  readonly alerting: AlertingStore;
  readonly statusSubscribers: StatusSubscribersStore;
  readonly drillRuns: DrillRunsStore;

  constructor(
    private readonly driver: SqlDriver,
    private readonly logger: Logger = silentLogger(),
  ) {
    this.history = new ProbeHistory(driver);
    this.backupRuns = new BackupRuns(driver);
    this.alerting = new AlertingTables(driver);
    this.statusSubscribers = new StatusSubscriberTables(driver);
    this.drillRuns = new DrillRunTables(driver);
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.driver.dialect;
  }

  migrate(): Promise<MigrationResult> {
    return runMigrations(this.driver, MIGRATIONS, this.logger);
  }

  schemaVersion(): Promise<number> {
    return readSchemaVersion(this.driver, this.driver.dialect);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.driver.close();
  }

  async createToken(token: NewToken): Promise<TokenRecord> {
    try {
      const rows = await this.driver.all(
        `INSERT INTO api_tokens (name, prefix, hash, created_at) VALUES (?, ?, ?, ?) RETURNING ${TOKEN_COLUMNS}`,
        [token.name, token.prefix, token.hash, new Date().toISOString()],
      );
      return tokenFromRow(first(rows, 'createToken'));
    } catch (err) {
      if (!this.driver.isUniqueViolation(err)) throw err;
      throw new BulwarkError('BAD_REQUEST', `a token named "${token.name}" already exists`, {
        hint: 'choose another name, or revoke the existing token first',
        context: { name: token.name },
      });
    }
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const rows = await this.driver.all(
      `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE hash = ? AND revoked_at IS NULL`,
      [hash],
    );
    return rows[0] ? tokenFromRow(rows[0]) : null;
  }

  async listTokens(): Promise<TokenRecord[]> {
    const rows = await this.driver.all(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY id`);
    return rows.map(tokenFromRow);
  }

  async revokeToken(name: string): Promise<TokenRecord> {
    const rows = await this.driver.all(
      `UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL RETURNING ${TOKEN_COLUMNS}`,
      [new Date().toISOString(), name],
    );
    if (rows[0]) return tokenFromRow(rows[0]);
    throw new BulwarkError('NOT_FOUND', `no active token named "${name}"`, {
      hint: 'list tokens with `bulwark token list`',
      context: { name },
    });
  }

  async touchToken(id: number): Promise<void> {
    await this.driver.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [new Date().toISOString(), id]);
  }

  async appendEvent(event: NewEvent): Promise<EventRecord> {
    const rows = await this.driver.all(
      `INSERT INTO events (at, subsystem, kind, subject, data) VALUES (?, ?, ?, ?, ?) RETURNING ${EVENT_COLUMNS}`,
      [new Date().toISOString(), event.subsystem, event.kind, event.subject, JSON.stringify(event.data ?? null)],
    );
    return eventFromRow(first(rows, 'appendEvent'));
  }

  async recentEvents(query: RecentEventsQuery): Promise<EventRecord[]> {
    const limit = Math.max(1, Math.min(MAX_EVENTS, Math.floor(query.limit)));
    const rows = query.subsystem === undefined
      ? await this.driver.all(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY id DESC LIMIT ?`, [limit])
      : await this.driver.all(
        `SELECT ${EVENT_COLUMNS} FROM events WHERE subsystem = ? ORDER BY id DESC LIMIT ?`,
        [query.subsystem, limit],
      );
    return rows.map(eventFromRow);
  }

  async recordConfigRevision(revision: NewConfigRevision): Promise<ConfigRevision> {
    const rows = await this.driver.all(
      `INSERT INTO config_revisions (checksum, source, recorded_at, text) VALUES (?, ?, ?, ?) RETURNING ${REVISION_COLUMNS}`,
      [revision.checksum, revision.source, new Date().toISOString(), revision.text ?? null],
    );
    return revisionFromRow(first(rows, 'recordConfigRevision'));
  }

  async latestConfigRevision(): Promise<ConfigRevision | null> {
    const rows = await this.driver.all(`SELECT ${REVISION_COLUMNS} FROM config_revisions ORDER BY id DESC LIMIT 1`);
    return rows[0] ? revisionFromRow(rows[0]) : null;
  }

  async listConfigRevisions(limit: number): Promise<ConfigRevision[]> {
    const rows = await this.driver.all(`SELECT ${REVISION_COLUMNS} FROM config_revisions ORDER BY id DESC LIMIT ?`, [limit]);
    return rows.map(revisionFromRow);
  }

  async configRevision(id: number): Promise<ConfigRevision | null> {
    const rows = await this.driver.all(`SELECT ${REVISION_COLUMNS} FROM config_revisions WHERE id = ?`, [id]);
    return rows[0] ? revisionFromRow(rows[0]) : null;
  }

  recordProbeResults(rows: readonly ProbeResultInput[]): Promise<void> {
    return this.history.recordProbeResults(rows);
  }

  recordStateChange(change: NewStateChange): Promise<StateChange> {
    return this.history.recordStateChange(change);
  }

  stateChanges(query: StateChangesQuery): Promise<StateChange[]> {
    return this.history.stateChanges(query);
  }

  probeRollups(query: ProbeRollupsQuery): Promise<ProbeRollup[]> {
    return this.history.probeRollups(query);
  }

  latestProbeResults(target: string, limit: number): Promise<ProbeResultRecord[]> {
    return this.history.latestProbeResults(target, limit);
  }

  pruneProbeHistory(retention: ProbeRetention, now: number): Promise<PruneResult> {
    return this.history.pruneProbeHistory(retention, now);
  }

  storageBytes(): Promise<number | null> {
    return this.history.storageBytes();
  }

  recordBackupRun(run: BackupRunRecord): Promise<void> {
    return this.backupRuns.record(run);
  }

  listBackupRuns(query: BackupRunsQuery): Promise<BackupRunRecord[]> {
    return this.backupRuns.list(query);
  }

  lastBackupRuns(): Promise<LastBackupRuns[]> {
    return this.backupRuns.latest();
  }
}
