/**
 * One idle connection to the member PgBouncer points at. When its PostgreSQL
 * dies, the backend notices the postmaster gone and the socket closes within
 * milliseconds; the leader key changes only at the managers' next loop (about
 * a second later). In between, PgBouncer would try the dead member, fail, and
 * turn every waiting client away ("server login has been failing"). The
 * pooler pauses on this signal instead, and resumes when the tracker names a
 * primary (the same member, if the connection merely dropped).
 */
import pg from 'pg';
import type { PrimaryAddress } from '../primary-tracker.js';

export interface PrimaryWatchOptions {
  user: string;
  password: string;
  /** Called once per armed connection when it closes while armed. */
  onLost: (primary: PrimaryAddress) => void;
}

export class PrimaryWatch {
  private client: pg.Client | undefined;
  private armedFor: PrimaryAddress | undefined;

  constructor(private readonly o: PrimaryWatchOptions) {}

  /** Watches `primary` (replacing any earlier watch); resolves true once connected and writable. */
  async arm(primary: PrimaryAddress): Promise<boolean> {
    this.disarm();
    const client = new pg.Client({
      host: primary.host, port: primary.port, user: this.o.user, password: this.o.password, database: 'postgres',
      connectionTimeoutMillis: 2000, query_timeout: 2000, application_name: 'bulwark-pooler-watch',
    });
    this.client = client;
    this.armedFor = primary;
    let fired = false;
    const lost = (): void => {
      if (fired || this.client !== client) return;
      fired = true;
      this.client = undefined;
      this.o.onLost(primary);
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      const rows = (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows;
      return rows[0]?.r === false;
    } catch {
      if (this.client === client) this.disarm();
      return false;
    }
  }

  watching(): PrimaryAddress | undefined {
    return this.client ? this.armedFor : undefined;
  }

  disarm(): void {
    const client = this.client;
    this.client = undefined;
    this.armedFor = undefined;
    if (client) void client.end().catch(() => undefined);
  }
}
