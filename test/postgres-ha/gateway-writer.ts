/**
 * A client of the gateway's PostgreSQL front door, as an application would be:
 * one connection to `listen`, one autocommit INSERT at a time, and on any
 * error it drops the connection and connects again (through the gateway,
 * which decides where that lands). Every acknowledged insert is recorded with
 * the time and the server port that acknowledged it (`inet_server_port()`),
 * so the test can tell which member took each write and measure the gaps.
 */
import pg from 'pg';
import { sleep } from '../../src/core/time.js';

export interface Ack {
  seq: number;
  /** performance.now() when the acknowledgement arrived. */
  at: number;
  /** The PostgreSQL port that acknowledged it: which member was the primary. */
  port: number;
  /** Wall-clock time of the acknowledgement, to line it up with the daemon's log. */
  wall: string;
}

export interface WriterOptions {
  port: number;
  user: string;
  password: string;
  table?: string;
  /** Pause between inserts; 0 = as fast as they are acknowledged. */
  intervalMs?: number;
}

export class GatewayWriter {
  readonly acks: Ack[] = [];
  /** Sent and not acknowledged: they may or may not have committed. */
  readonly unknown: number[] = [];
  /** The last few errors (connect and query), prefixed with the wall-clock time, for failure messages. */
  readonly errors: string[] = [];
  private seq = 0;
  private client: pg.Client | undefined;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: WriterOptions) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  lastAck(): Ack | undefined {
    return this.acks[this.acks.length - 1];
  }

  /** Resolves once `predicate` holds for the acknowledgements so far; rejects after `timeoutMs`. */
  async until(predicate: (acks: readonly Ack[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate(this.acks)) {
      if (performance.now() > deadline) {
        throw new Error(`writer: ${what} not within ${timeoutMs} ms (acks ${this.acks.length}, last ${JSON.stringify(this.lastAck())}, recent errors: ${this.errors.slice(-5).join(' | ')})`);
      }
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async run(): Promise<void> {
    const table = this.o.table ?? 't';
    while (this.running) {
      if (!this.client) {
        this.client = await this.connect();
        if (!this.client) {
          await sleep(50);
          continue;
        }
      }
      const seq = ++this.seq;
      try {
        const { rows } = await this.client.query<{ port: number }>(`INSERT INTO ${table} (seq) VALUES ($1) RETURNING inet_server_port() AS port`, [seq]);
        this.acks.push({ seq, at: performance.now(), port: Number(rows[0]?.port), wall: clock() });
      } catch (err) {
        this.unknown.push(seq);
        this.note(`insert ${seq}: ${String(err)}`);
        await this.client.end().catch(() => undefined);
        this.client = undefined;
      }
      if (this.o.intervalMs) await sleep(this.o.intervalMs);
    }
  }

  private async connect(): Promise<pg.Client | undefined> {
    const c = new pg.Client({
      host: '127.0.0.1', port: this.o.port, user: this.o.user, password: this.o.password, database: 'postgres',
      application_name: 'e2e-writer', connectionTimeoutMillis: 5000, query_timeout: 5000,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return c;
    } catch (err) {
      this.note(`connect: ${String(err)}`);
      await c.end().catch(() => undefined);
      return undefined;
    }
  }

  private note(text: string): void {
    this.errors.push(`${clock()} ${text}`);
    if (this.errors.length > 50) this.errors.splice(0, this.errors.length - 50);
  }
}

/** HH:MM:SS.mmm UTC, as the daemon's JSON log has it. */
export function clock(): string {
  return new Date().toISOString().slice(11, 23);
}
