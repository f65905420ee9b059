import type { IncidentEventRecord } from './alerting-types.js';
import type { Row, SqlDriver } from './driver.js';
import type { NewStatusSubscriber, StatusSubscriber, StatusSubscribersStore, SubscribeOptions, SubscriberKind } from './status-subscribers-types.js';

const COLUMNS = 'id, kind, address, components, created_at, confirmed_at, unsubscribed_at';
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function subscriberFromRow(r: Row): StatusSubscriber {
  return {
    id: Number(r.id), kind: String(r.kind) as SubscriberKind, address: String(r.address),
    components: JSON.parse(String(r.components)) as string[], createdAt: Number(r.created_at),
    confirmedAt: num(r.confirmed_at), unsubscribedAt: num(r.unsubscribed_at),
  };
}

/** The status page's subscriber tables over `SqlDriver`; see `status-subscribers-types.ts`. */
export class StatusSubscriberTables implements StatusSubscribersStore {
  constructor(private readonly driver: SqlDriver) {}

  async subscribe(s: NewStatusSubscriber, options: SubscribeOptions): Promise<{ subscriber: StatusSubscriber; created: boolean }> {
    try {
      return await this.insertUnlessActive(s, options);
    } catch (err) {
      // Two subscribes of one address at once: the unique index let one through.
      if (!this.driver.isUniqueViolation(err)) throw err;
      const rows = await this.driver.all(`SELECT ${COLUMNS} FROM status_subscribers WHERE kind = ? AND address = ? AND unsubscribed_at IS NULL`, [s.kind, s.address]);
      if (!rows[0]) throw err;
      return { subscriber: subscriberFromRow(rows[0]), created: false };
    }
  }

  private async insertUnlessActive(s: NewStatusSubscriber, options: SubscribeOptions): Promise<{ subscriber: StatusSubscriber; created: boolean }> {
    return this.driver.transaction(async (tx) => {
      await tx.run(
        'UPDATE status_subscribers SET unsubscribed_at = ? WHERE kind = ? AND address = ? AND unsubscribed_at IS NULL AND confirmed_at IS NULL AND created_at < ?',
        [s.createdAt, s.kind, s.address, options.pendingExpiredBefore],
      );
      const existing = await tx.all(`SELECT ${COLUMNS} FROM status_subscribers WHERE kind = ? AND address = ? AND unsubscribed_at IS NULL`, [s.kind, s.address]);
      if (existing[0]) return { subscriber: subscriberFromRow(existing[0]), created: false };
      const rows = await tx.all(
        `INSERT INTO status_subscribers (kind, address, components, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
        [s.kind, s.address, JSON.stringify(s.components), s.createdAt, options.confirmed ? s.createdAt : null],
      );
      return { subscriber: subscriberFromRow(rows[0]!), created: true };
    });
  }

  async subscriber(id: number): Promise<StatusSubscriber | null> {
    const rows = await this.driver.all(`SELECT ${COLUMNS} FROM status_subscribers WHERE id = ?`, [id]);
    return rows[0] ? subscriberFromRow(rows[0]) : null;
  }

  async confirm(id: number, at: number): Promise<StatusSubscriber | null> {
    await this.driver.run('UPDATE status_subscribers SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL AND unsubscribed_at IS NULL', [at, id]);
    const row = await this.subscriber(id);
    return row && row.unsubscribedAt === null ? row : null;
  }

  async unsubscribe(id: number, at: number): Promise<StatusSubscriber | null> {
    await this.driver.run('UPDATE status_subscribers SET unsubscribed_at = ? WHERE id = ? AND unsubscribed_at IS NULL', [at, id]);
    return this.subscriber(id);
  }

  async confirmedSubscribers(): Promise<StatusSubscriber[]> {
    const rows = await this.driver.all(`SELECT ${COLUMNS} FROM status_subscribers WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL ORDER BY id`);
    return rows.map(subscriberFromRow);
  }

  async incidentEventsAfter(afterId: number, limit: number): Promise<IncidentEventRecord[]> {
    const bounded = Math.min(Math.max(Math.trunc(limit) || 1, 1), 1000);
    const rows = await this.driver.all(`SELECT id, incident_id, at, kind, actor, data FROM incident_events WHERE id > ? ORDER BY id LIMIT ${bounded}`, [afterId]);
    return rows.map((r) => ({
      id: Number(r.id), incidentId: Number(r.incident_id), at: Number(r.at), kind: String(r.kind), actor: String(r.actor),
      data: JSON.parse(String(r.data)) as unknown,
    }));
  }

  async cursor(name: string): Promise<number | null> {
    const rows = await this.driver.all('SELECT value FROM status_cursors WHERE name = ?', [name]);
    return num(rows[0]?.value);
  }

  async setCursor(name: string, value: number): Promise<void> {
    await this.driver.run('INSERT INTO status_cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
  }
}
