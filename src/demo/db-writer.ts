/**
 * The application of `bulwark demo db`: one connection to the front door, one
 * autocommit INSERT every few milliseconds, and on any error a new connection
 * (the gateway decides where it lands). Each insert carries (run, seq): seq
 * counts every attempt of this run, so every seq up to the highest acknowledged
 * one was either acknowledged or failed without an answer (`unanswered`), and
 * "acknowledged writes missing on a member" is one query there.
 *
 * `inet_server_port()` in the answer says which member acknowledged it; when it
 * changes, the writer reports the switch with the gap between the last
 * acknowledgement on the old primary and the first on the new one.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { DEMO_DB_TABLE } from './db-layout.js';

export interface Endpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** The member acknowledging writes changed. Times are performance.now(). */
export interface WriterSwitch {
  fromPort: number;
  toPort: number;
  lastOldAt: number;
  firstNewAt: number;
  gapMs: number;
}

export interface MissingWrites {
  /** Acknowledged writes looked for. */
  checked: number;
  missing: number;
  /** The first few missing seq numbers. */
  sample: number[];
}

export interface DemoWriterEvents {
  switch: [WriterSwitch];
  firstAck: [];
}

const RECONNECT_PACE_MS = 50;

export class DemoWriter extends EventEmitter<DemoWriterEvents> {
  /** This run's id in the table: the start time, so that runs never collide. */
  readonly run = Date.now();
  acknowledged = 0;
  /** Sent and not answered (an error or a timeout): they may or may not have committed. */
  readonly unanswered: number[] = [];
  lastAck: { port: number; at: number } | undefined;
  lastError: string | undefined;
  private seq = 0;
  private maxAcked = 0;
  private client: pg.Client | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly frontDoor: Endpoint, private readonly intervalMs = 5) {
    super();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.writeLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  /**
   * Acknowledged writes (up to the highest one so far) missing on the member at `host:port`, asked
   * there directly (in the front door's database). Every seq from 1 to that one is acknowledged
   * unless it is among the unanswered.
   */
  async missingOn(member: Pick<Endpoint, 'host' | 'port'>, timeoutMs = 30_000): Promise<MissingWrites> {
    const upTo = this.maxAcked;
    const unanswered = this.unanswered.filter((s) => s <= upTo);
    const checked = upTo - unanswered.length;
    const c = new pg.Client({
      ...this.frontDoor, host: member.host, port: member.port, connectionTimeoutMillis: 5_000, query_timeout: timeoutMs, application_name: 'bulwark-demo-check',
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const { rows } = await c.query<{ missing: number; sample: number[] | null }>(
        `SELECT count(*)::int AS missing, (array_agg(s ORDER BY s))[1:5] AS sample
           FROM generate_series(1, $2::int) AS s
          WHERE s <> ALL ($3::int[])
            AND NOT EXISTS (SELECT 1 FROM ${DEMO_DB_TABLE} w WHERE w.run = $1 AND w.seq = s)`,
        [String(this.run), upTo, unanswered]);
      return { checked, missing: rows[0]?.missing ?? 0, sample: rows[0]?.sample ?? [] };
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  private async writeLoop(): Promise<void> {
    while (this.running) {
      this.client ??= await this.connect();
      if (!this.client) {
        await this.pause(RECONNECT_PACE_MS);
        continue;
      }
      const seq = ++this.seq;
      try {
        const { rows } = await this.client.query<{ port: number }>(
          `INSERT INTO ${DEMO_DB_TABLE} (run, seq) VALUES ($1, $2) RETURNING inet_server_port() AS port`, [String(this.run), seq]);
        this.acked(seq, Number(rows[0]?.port));
      } catch (err) {
        this.unanswered.push(seq);
        this.lastError = String((err as Error).message ?? err);
        await this.client.end().catch(() => undefined);
        this.client = undefined;
      }
      if (this.intervalMs > 0) await this.pause(this.intervalMs);
    }
  }

  private acked(seq: number, port: number): void {
    const at = performance.now();
    const previous = this.lastAck;
    this.acknowledged++;
    this.maxAcked = seq;
    this.lastAck = { port, at };
    if (!previous) this.emit('firstAck');
    else if (previous.port !== port) {
      this.emit('switch', { fromPort: previous.port, toPort: port, lastOldAt: previous.at, firstNewAt: at, gapMs: at - previous.at });
    }
  }

  private async connect(): Promise<pg.Client | undefined> {
    const c = new pg.Client({
      ...this.frontDoor, application_name: 'bulwark-demo-writer', connectionTimeoutMillis: 5_000, query_timeout: 5_000,
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return c;
    } catch (err) {
      this.lastError = String((err as Error).message ?? err);
      await c.end().catch(() => undefined);
      return undefined;
    }
  }

  /** A pause that stop() cuts short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
