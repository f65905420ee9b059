/**
 * A client inserting sequence numbers, one autocommit transaction each, into
 * whichever member is the primary (libpq's target_session_attrs=read-write by
 * hand: try every member, keep the one where pg_is_in_recovery() is false).
 * It records every acknowledged insert with the time and the member.
 */
import pg from 'pg';
import type { PgEndpoint } from '../pg-query.js';

export interface Ack {
  seq: number;
  at: number;
  member: string;
}

export interface Target {
  name: string;
  endpoint: PgEndpoint;
}

export class FailoverWriter {
  readonly acks: Ack[] = [];
  /** Sent but not acknowledged: they may or may not have committed. */
  readonly unknown: number[] = [];
  private seq = 0;
  private client: { c: pg.Client; member: string } | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly targets: readonly Target[], private readonly table = 't') {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  lastAck(): Ack | undefined {
    return this.acks[this.acks.length - 1];
  }

  /** Resolves once `predicate` holds for the acknowledgements so far, or rejects after `timeoutMs`. */
  async until(predicate: (acks: readonly Ack[]) => boolean, timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (!predicate(this.acks)) {
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
      const c = new pg.Client({ ...t.endpoint, database: t.endpoint.database ?? 'postgres', connectionTimeoutMillis: 500, query_timeout: 5000 });
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
