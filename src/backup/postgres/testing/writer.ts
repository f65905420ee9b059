/**
 * A client inserting sequence numbers one autocommit transaction at a time,
 * recording when each was sent and acknowledged, and able to mark a clean
 * boundary between two commits (a time or a WAL location).
 */
import pg from 'pg';

export interface Mark {
  /** Rows 1..lastSeq were acknowledged before the mark; later ones were sent after it. */
  lastSeq: number;
  time: Date;
  lsn: string;
}

export class Writer {
  private readonly client: pg.Client;
  private seq = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private markRequest: ((mark: Mark) => void) | undefined;
  private failure: unknown;

  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url });
    this.client.on('error', (err) => { this.failure ??= err; });
  }

  get acknowledged(): number {
    return this.seq;
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.client.query('CREATE TABLE t (seq int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
    this.running = true;
    this.loop = this.run().catch((err: unknown) => { this.failure = err; });
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.client.query('INSERT INTO t (seq) VALUES ($1)', [this.seq + 1]);
      this.seq += 1;
      const request = this.markRequest;
      if (request) {
        this.markRequest = undefined;
        request(await this.boundary());
      }
    }
  }

  /**
   * Called right after an acknowledgement: the commit happened before ack+1 ms,
   * and the next insert is sent no earlier than ack+2 ms, so a target at
   * ack+1 ms falls strictly between the two commits.
   */
  private async boundary(): Promise<Mark> {
    const ackMs = Date.now();
    const lsn = (await this.client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]?.lsn ?? '';
    while (Date.now() < ackMs + 2) await new Promise((resolve) => setTimeout(resolve, 1));
    return { lastSeq: this.seq, time: new Date(ackMs + 1), lsn };
  }

  mark(): Promise<Mark> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => { this.markRequest = resolve; });
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    await this.client.end().catch(() => undefined);
    if (this.failure) throw this.failure;
    return this.seq;
  }
}
