/**
 * The synthetic writer of failover drills (and of the failover benchmark and
 * the HA tests): one autocommit INSERT of an increasing sequence number at a
 * time into whichever member is the primary (libpq's
 * target_session_attrs=read-write by hand: try every member, keep the one
 * where pg_is_in_recovery() is false). Every acknowledged insert is recorded
 * with the time and the member; an insert whose answer never came is
 * "unknown": it may or may not have committed.
 */
import pg from 'pg';
import { withPgClient, type PgTarget } from '../core/pg.js';

export interface Ack {
  seq: number;
  /** performance.now() when the acknowledgement arrived. */
  at: number;
  member: string;
}

export interface WriterTarget {
  name: string;
  endpoint: PgTarget;
}

export interface SequenceWriterOptions {
  /** Bound on connecting to a member while looking for the primary; 500 ms by default. */
  connectTimeoutMs?: number;
  /** Bound on one INSERT; 5 s by default. */
  queryTimeoutMs?: number;
}

export class SequenceWriter {
  readonly acks: Ack[] = [];
  /** Sent but not acknowledged: they may or may not have committed. */
  readonly unknown: number[] = [];
  private seq = 0;
  private client: { c: pg.Client; member: string } | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  /** `table` is used as written (it may be schema-qualified and quoted): it comes from the caller, never from input. */
  constructor(private readonly targets: readonly WriterTarget[], private readonly table = 't', private readonly options: SequenceWriterOptions = {}) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  lastAck(): Ack | undefined {
    return this.acks[this.acks.length - 1];
  }

  /** Resolves once `predicate` holds for the acknowledgements so far; rejects after `timeoutMs` or when `signal` aborts. */
  async until(predicate: (acks: readonly Ack[]) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (!predicate(this.acks)) {
      signal?.throwIfAborted();
      if (performance.now() > until) throw new Error(`writer condition not met within ${timeoutMs} ms (last ack ${JSON.stringify(this.lastAck())})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.c.end().catch(() => undefined);
    this.client = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.client ??= await this.connectToPrimary();
      if (!this.client) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const seq = ++this.seq;
      try {
        await this.client.c.query(`INSERT INTO ${this.table} (seq) VALUES ($1)`, [seq]);
        this.acks.push({ seq, at: performance.now(), member: this.client.member });
      } catch {
        this.unknown.push(seq);
        await this.client.c.end().catch(() => undefined);
        this.client = undefined;
      }
    }
  }

  private async connectToPrimary(): Promise<{ c: pg.Client; member: string } | undefined> {
    for (const t of this.targets) {
      if (!this.running) return undefined;
      const c = new pg.Client({
        ...t.endpoint, database: t.endpoint.database ?? 'postgres', connectionTimeoutMillis: this.options.connectTimeoutMs ?? 500,
        query_timeout: this.options.queryTimeoutMs ?? 5000, application_name: 'bulwark-drill-writer',
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        const { rows } = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
        if (rows[0]?.r === false) return { c, member: t.name };
      } catch {
        // not this one
      }
      await c.end().catch(() => undefined);
    }
    return undefined;
  }
}

/** `schema.table`, each part quoted. */
export function qualified(schema: string, table: string): string {
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return `${ident(schema)}.${ident(table)}`;
}

/** The sequence numbers in `table` on `endpoint`. */
export async function presentSeqs(endpoint: PgTarget, table: string, timeoutMs = 10_000): Promise<Set<number>> {
  const rows = await withPgClient(endpoint, { applicationName: 'bulwark-drill', connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs }, async (c) => (await c.query<{ seq: number }>(`SELECT seq FROM ${table}`)).rows);
  return new Set(rows.map((r) => Number(r.seq)));
}

/** Acknowledged sequence numbers missing from `table` on `endpoint`: the acknowledged writes lost. */
export async function missingAcked(endpoint: PgTarget, table: string, acked: readonly number[], timeoutMs = 10_000): Promise<number[]> {
  const present = await presentSeqs(endpoint, table, timeoutMs);
  return acked.filter((s) => !present.has(s));
}
