/**
 * Clients writing through PgBouncer, as an application would: `clients`
 * connections, each inserting one sequence number per transaction in a loop.
 * An error is counted (with its message), the connection is replaced, and the
 * loop goes on. Records every acknowledged insert with its latency, so a test
 * can measure the pause clients saw (the longest transaction, the longest gap
 * between acknowledgements).
 */
import pg from 'pg';

export interface PooledAck {
  seq: number;
  /** performance.now() when the commit was acknowledged. */
  at: number;
  latencyMs: number;
}

export interface PooledWriterOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  clients: number;
  table?: string;
}

export class PooledWriter {
  readonly acks: PooledAck[] = [];
  readonly errors: Array<{ at: number; message: string }> = [];
  private seq = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly o: PooledWriterOptions) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.o.clients }, () => this.run());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Resolves once `predicate` holds, or rejects after `timeoutMs`. */
  async until(predicate: (w: PooledWriter) => boolean, timeoutMs: number, what: string): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (!predicate(this)) {
      if (performance.now() > until) throw new Error(`writer: ${what} not within ${timeoutMs} ms (${this.acks.length} acks, ${this.errors.length} errors: ${this.errors.slice(-3).map((e) => e.message).join(' | ')})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Between `from` and `to` (performance.now()): the longest transaction and the longest gap without any acknowledgement. */
  pauseBetween(from: number, to: number): { longestTransactionMs: number; longestGapMs: number } {
    // Transactions started before `to` and acknowledged after `from`, however long they waited.
    const inside = this.acks.filter((a) => a.at >= from && a.at - a.latencyMs <= to).sort((a, b) => a.at - b.at);
    let gap = 0;
    let previous = from;
    for (const a of inside) {
      gap = Math.max(gap, a.at - previous);
      previous = a.at;
    }
    return { longestTransactionMs: Math.max(0, ...inside.map((a) => a.latencyMs)), longestGapMs: Math.max(gap, to - previous) };
  }

  private async run(): Promise<void> {
    const table = this.o.table ?? 't';
    let client: pg.Client | undefined;
    while (this.running) {
      const started = performance.now();
      try {
        client ??= await this.connect();
        const seq = ++this.seq;
        await client.query(`INSERT INTO ${table} (seq) VALUES ($1)`, [seq]);
        const at = performance.now();
        this.acks.push({ seq, at, latencyMs: at - started });
      } catch (err) {
        this.errors.push({ at: performance.now(), message: err instanceof Error ? err.message : String(err) });
        await client?.end().catch(() => undefined);
        client = undefined;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<pg.Client> {
    const c = new pg.Client({ host: this.o.host, port: this.o.port, user: this.o.user, password: this.o.password, database: this.o.database, connectionTimeoutMillis: 5000, query_timeout: 60_000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    return c;
  }
}
