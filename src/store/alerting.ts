import { BulwarkError } from '../core/errors.js';
import type { Row, SqlDriver, SqlExecutor } from './driver.js';
import type {
  AlertingStore, IncidentEventInput, IncidentEventRecord, IncidentPatch, IncidentRecord, IncidentsQuery, NewIncident,
  OutboxInput, OutboxOutcome, OutboxRecord, OutboxState, SilenceInput, SilenceRecord,
} from './alerting-types.js';
import { OUTCOME_LOST } from './alerting-types.js';

/** Alerting's tables over `SqlDriver`; see `alerting-types.ts` for the contract. */

const INCIDENT_COLUMNS: Record<keyof IncidentRecord, string> = {
  id: 'id', key: 'key', rule: 'rule', severity: 'severity', title: 'title', state: 'state', policy: 'policy',
  labels: 'labels', alerts: 'alerts', openedAt: 'opened_at', acknowledgedAt: 'acknowledged_at', acknowledgedBy: 'acknowledged_by',
  resolvedAt: 'resolved_at', resolvedBy: 'resolved_by', owner: 'owner', nextLevel: 'next_level', cycle: 'cycle', nextAt: 'next_at',
  clearSince: 'clear_since', flapping: 'flapping', rootCause: 'root_cause', resolution: 'resolution', reminderAt: 'reminder_at', updatedAt: 'updated_at',
};
const SELECT_INCIDENT = `SELECT ${Object.values(INCIDENT_COLUMNS).join(', ')} FROM incidents`;
const JSON_FIELDS = new Set<keyof IncidentRecord>(['labels', 'alerts']);
const MAX_ROWS = 1000;
/** Delivered outcomes per UPDATE: three parameters each, far below either database's limit. */
const OUTCOMES_PER_STATEMENT = 200;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function incidentFromRow(r: Row): IncidentRecord {
  return {
    id: Number(r.id), key: String(r.key), rule: String(r.rule), severity: String(r.severity) as IncidentRecord['severity'],
    title: String(r.title), state: String(r.state) as IncidentRecord['state'], policy: str(r.policy),
    labels: JSON.parse(String(r.labels)) as Record<string, string>, alerts: JSON.parse(String(r.alerts)) as string[],
    openedAt: Number(r.opened_at), acknowledgedAt: num(r.acknowledged_at), acknowledgedBy: str(r.acknowledged_by),
    resolvedAt: num(r.resolved_at), resolvedBy: str(r.resolved_by), owner: str(r.owner),
    nextLevel: Number(r.next_level), cycle: Number(r.cycle), nextAt: num(r.next_at), clearSince: num(r.clear_since),
    flapping: Boolean(r.flapping), rootCause: str(r.root_cause), resolution: str(r.resolution), reminderAt: num(r.reminder_at),
    updatedAt: Number(r.updated_at),
  };
}

function outboxFromRow(r: Row): OutboxRecord {
  return {
    id: Number(r.id), idempotencyKey: String(r.idempotency_key), channel: String(r.channel), incidentId: num(r.incident_id),
    kind: String(r.kind), message: JSON.parse(String(r.message)) as unknown, state: String(r.state) as OutboxState,
    attempts: Number(r.attempts), createdAt: Number(r.created_at), deadlineAt: Number(r.deadline_at),
    nextAttemptAt: Number(r.next_attempt_at), leaseUntil: num(r.lease_until), lastError: str(r.last_error), deliveredAt: num(r.delivered_at),
  };
}

function silenceFromRow(r: Row): SilenceRecord {
  return {
    id: Number(r.id), matchers: JSON.parse(String(r.matchers)) as Record<string, string>, startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at), createdBy: String(r.created_by), comment: String(r.comment), createdAt: Number(r.created_at),
    expiredAt: num(r.expired_at), expiredBy: str(r.expired_by),
  };
}

function clamp(limit: number): number {
  return Math.min(Math.max(Math.trunc(limit) || 1, 1), MAX_ROWS);
}

export class AlertingTables implements AlertingStore {
  constructor(private readonly driver: SqlDriver) {}

  private bool(b: boolean): boolean | number {
    return this.driver.dialect === 'sqlite' ? (b ? 1 : 0) : b;
  }

  async openIncident(incident: NewIncident, event: IncidentEventInput, outbox: (created: IncidentRecord) => readonly OutboxInput[]): Promise<{ incident: IncidentRecord; created: boolean }> {
    return this.driver.transaction(async (tx) => {
      const existing = await tx.all(`${SELECT_INCIDENT} WHERE key = ? AND state <> 'resolved'`, [incident.key]);
      if (existing[0]) return { incident: incidentFromRow(existing[0]), created: false };
      const rows = await tx.all(
        `INSERT INTO incidents (key, rule, severity, title, state, policy, labels, alerts, opened_at, next_level, cycle, next_at, flapping, reminder_at, updated_at)
         VALUES (?, ?, ?, ?, 'triggered', ?, ?, ?, ?, 0, 0, ?, ?, ?, ?) RETURNING id`,
        [incident.key, incident.rule, incident.severity, incident.title, incident.policy, JSON.stringify(incident.labels),
          JSON.stringify(incident.alerts), incident.openedAt, incident.nextAt, this.bool(false), incident.reminderAt, incident.openedAt],
      );
      const id = Number(rows[0]!.id);
      await this.insertEvents(tx, id, [event]);
      const created = (await this.readIncident(tx, id))!;
      await this.insertOutbox(tx, outbox(created));
      return { incident: created, created: true };
    });
  }

  async updateIncident(id: number, patch: IncidentPatch, events: readonly IncidentEventInput[], outbox: readonly OutboxInput[]): Promise<IncidentRecord> {
    return this.driver.transaction(async (tx) => {
      const sets: string[] = [];
      const params: unknown[] = [];
      for (const [field, value] of Object.entries(patch) as Array<[keyof IncidentRecord, unknown]>) {
        if (value === undefined) continue;
        sets.push(`${INCIDENT_COLUMNS[field]} = ?`);
        params.push(JSON_FIELDS.has(field) ? JSON.stringify(value) : typeof value === 'boolean' ? this.bool(value) : value);
      }
      sets.push('updated_at = ?');
      params.push(Math.max(Date.now(), ...events.map((e) => e.at)));
      const changed = await tx.run(`UPDATE incidents SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
      if (changed === 0) throw new BulwarkError('NOT_FOUND', `no incident ${id}`, { hint: 'list incidents with: bulwark incident ls' });
      await this.insertEvents(tx, id, events);
      await this.insertOutbox(tx, outbox);
      return (await this.readIncident(tx, id))!;
    });
  }

  async incident(id: number): Promise<IncidentRecord | null> {
    return this.readIncident(this.driver, id);
  }

  async listIncidents(query: IncidentsQuery): Promise<IncidentRecord[]> {
    const states = query.states?.length ? query.states : undefined;
    const where = states ? ` WHERE state IN (${states.map(() => '?').join(', ')})` : '';
    const rows = await this.driver.all(`${SELECT_INCIDENT}${where} ORDER BY id DESC LIMIT ${clamp(query.limit)}`, states ?? []);
    return rows.map(incidentFromRow);
  }

  async openIncidents(): Promise<IncidentRecord[]> {
    return (await this.driver.all(`${SELECT_INCIDENT} WHERE state <> 'resolved' ORDER BY id`)).map(incidentFromRow);
  }

  async incidentEvents(id: number): Promise<IncidentEventRecord[]> {
    const rows = await this.driver.all('SELECT id, incident_id, at, kind, actor, data FROM incident_events WHERE incident_id = ? ORDER BY id', [id]);
    return rows.map((r) => ({
      id: Number(r.id), incidentId: Number(r.incident_id), at: Number(r.at), kind: String(r.kind), actor: String(r.actor),
      data: JSON.parse(String(r.data)) as unknown,
    }));
  }

  async enqueue(outbox: readonly OutboxInput[]): Promise<number> {
    return this.driver.transaction((tx) => this.insertOutbox(tx, outbox));
  }

  async claimOutbox(now: number, limit: number, leaseUntil: number): Promise<OutboxRecord[]> {
    // One statement: the claim is atomic without a transaction around a read and a write.
    const claimed = await this.driver.all(
      `UPDATE alert_outbox
       SET last_error = CASE WHEN state = 'sending' THEN ? ELSE last_error END, state = 'sending', attempts = attempts + 1, lease_until = ?
       WHERE id IN (
         SELECT id FROM alert_outbox
         WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until <= ?)
         ORDER BY next_attempt_at, id LIMIT ${clamp(limit)})
       RETURNING *`,
      [OUTCOME_LOST, leaseUntil, now, now],
    );
    // RETURNING's order is unspecified.
    return claimed.map(outboxFromRow).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
  }

  async completeOutbox(id: number, outcome: OutboxOutcome): Promise<void> {
    await this.writeOutcome(this.driver, id, outcome);
  }

  async completeOutboxMany(outcomes: ReadonlyArray<{ id: number; outcome: OutboxOutcome }>): Promise<void> {
    if (outcomes.length === 0) return;
    await this.driver.transaction(async (tx) => {
      const delivered = outcomes.flatMap(({ id, outcome }) => (outcome.state === 'delivered' ? [{ id, at: outcome.at }] : []));
      for (let i = 0; i < delivered.length; i += OUTCOMES_PER_STATEMENT) await this.markDelivered(tx, delivered.slice(i, i + OUTCOMES_PER_STATEMENT));
      for (const { id, outcome } of outcomes) if (outcome.state !== 'delivered') await this.writeOutcome(tx, id, outcome);
    });
  }

  /** Delivered rows in one statement: in a storm nearly every outcome is one, and SQLite prepares each statement anew. */
  private async markDelivered(tx: SqlExecutor, rows: ReadonlyArray<{ id: number; at: number }>): Promise<void> {
    const cases = rows.map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ');
    await tx.run(
      `UPDATE alert_outbox SET state = 'delivered', delivered_at = CASE id ${cases} END, lease_until = NULL, last_error = NULL
       WHERE id IN (${rows.map(() => '?').join(', ')})`,
      [...rows.flatMap((r) => [r.id, r.at]), ...rows.map((r) => r.id)],
    );
  }

  private async writeOutcome(db: SqlExecutor, id: number, outcome: OutboxOutcome): Promise<void> {
    if (outcome.state === 'delivered') {
      await db.run(`UPDATE alert_outbox SET state = 'delivered', delivered_at = ?, lease_until = NULL, last_error = NULL WHERE id = ?`, [outcome.at, id]);
    } else if (outcome.state === 'deferred') {
      await db.run(`UPDATE alert_outbox SET state = 'pending', next_attempt_at = ?, lease_until = NULL, attempts = attempts - 1 WHERE id = ?`, [outcome.nextAttemptAt, id]);
    } else if (outcome.state === 'pending') {
      await db.run(`UPDATE alert_outbox SET state = 'pending', next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?`, [outcome.nextAttemptAt, outcome.error, id]);
    } else {
      await db.run(`UPDATE alert_outbox SET state = 'dead', lease_until = NULL, last_error = ? WHERE id = ?`, [outcome.error, id]);
    }
  }

  async releaseClaims(): Promise<number> {
    return this.driver.run(`UPDATE alert_outbox SET state = 'pending', lease_until = NULL, last_error = ? WHERE state = 'sending'`, [OUTCOME_LOST]);
  }

  async listOutbox(query: { incidentId?: number; limit: number }): Promise<OutboxRecord[]> {
    const where = query.incidentId === undefined ? '' : ' WHERE incident_id = ?';
    const rows = await this.driver.all(`SELECT * FROM alert_outbox${where} ORDER BY id DESC LIMIT ${clamp(query.limit)}`, query.incidentId === undefined ? [] : [query.incidentId]);
    return rows.map(outboxFromRow);
  }

  async outboxCounts(): Promise<Array<{ channel: string; state: OutboxState; count: number }>> {
    const rows = await this.driver.all('SELECT channel, state, COUNT(*) AS n FROM alert_outbox GROUP BY channel, state ORDER BY channel, state');
    return rows.map((r) => ({ channel: String(r.channel), state: String(r.state) as OutboxState, count: Number(r.n) }));
  }

  async nextOutboxDue(): Promise<number | null> {
    const rows = await this.driver.all(
      `SELECT MIN(CASE WHEN state = 'pending' THEN next_attempt_at ELSE lease_until END) AS due FROM alert_outbox WHERE state IN ('pending', 'sending')`,
    );
    return num(rows[0]?.due);
  }

  async addSilence(silence: SilenceInput): Promise<SilenceRecord> {
    const rows = await this.driver.all(
      'INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING *',
      [JSON.stringify(silence.matchers), silence.startsAt, silence.endsAt, silence.createdBy, silence.comment, Date.now()],
    );
    return silenceFromRow(rows[0]!);
  }

  async listSilences(now?: number): Promise<SilenceRecord[]> {
    const rows = now === undefined
      ? await this.driver.all('SELECT * FROM silences ORDER BY id DESC LIMIT 1000')
      : await this.driver.all('SELECT * FROM silences WHERE expired_at IS NULL AND ends_at > ? ORDER BY id', [now]);
    return rows.map(silenceFromRow);
  }

  async expireSilence(id: number, by: string, at: number): Promise<SilenceRecord> {
    const rows = await this.driver.all(
      'UPDATE silences SET expired_at = ?, expired_by = ? WHERE id = ? AND expired_at IS NULL AND ends_at > ? RETURNING *',
      [at, by, id, at],
    );
    if (!rows[0]) throw new BulwarkError('NOT_FOUND', `no active silence ${id}`, { hint: 'list silences with: bulwark silence ls' });
    return silenceFromRow(rows[0]);
  }

  async setting(name: string, create: () => string): Promise<string> {
    await this.driver.run('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, create()]);
    const rows = await this.driver.all('SELECT value FROM settings WHERE name = ?', [name]);
    return String(rows[0]!.value);
  }

  private async readIncident(exec: SqlExecutor, id: number): Promise<IncidentRecord | null> {
    const rows = await exec.all(`${SELECT_INCIDENT} WHERE id = ?`, [id]);
    return rows[0] ? incidentFromRow(rows[0]) : null;
  }

  private async insertEvents(tx: SqlExecutor, id: number, events: readonly IncidentEventInput[]): Promise<void> {
    for (const e of events) {
      await tx.run('INSERT INTO incident_events (incident_id, at, kind, actor, data) VALUES (?, ?, ?, ?, ?)', [id, e.at, e.kind, e.actor, JSON.stringify(e.data ?? null)]);
    }
  }

  private async insertOutbox(tx: SqlExecutor, outbox: readonly OutboxInput[]): Promise<number> {
    let added = 0;
    for (const o of outbox) {
      added += await tx.run(
        `INSERT INTO alert_outbox (idempotency_key, channel, incident_id, kind, message, state, attempts, created_at, deadline_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
        [o.idempotencyKey, o.channel, o.incidentId, o.kind, JSON.stringify(o.message), o.createdAt, o.deadlineAt, o.notBefore ?? o.createdAt],
      );
    }
    return added;
  }
}
