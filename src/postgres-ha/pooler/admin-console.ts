/**
 * PgBouncer's admin console (the `pgbouncer` database): one short connection
 * per command, bounded by a timeout. PAUSE waits for the transactions in
 * flight, so it gets its own, longer bound from the caller.
 */
import pg from 'pg';
import { ADMIN_USER } from './pgbouncer-files.js';

export interface AdminEndpoint {
  host: string;
  port: number;
  password: string;
}

export type AdminCommand = 'PAUSE' | 'RESUME' | 'RELOAD' | 'RECONNECT' | 'SHOW POOLS' | 'SHOW STATS' | 'SHOW VERSION';

/** Runs one admin command; its rows (SHOW) or none. */
export async function adminCommand<T = Record<string, string>>(endpoint: AdminEndpoint, command: AdminCommand, timeoutMs: number): Promise<T[]> {
  const client = new pg.Client({
    host: endpoint.host, port: endpoint.port, user: ADMIN_USER, password: endpoint.password, database: 'pgbouncer',
    connectionTimeoutMillis: timeoutMs,
  });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`PgBouncer's ${command} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const work = (async () => {
      await client.connect();
      return (await client.query(command)).rows as T[];
    })();
    work.catch(() => undefined);
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
    // end() waits for the server; a PAUSE still pending would hold it: the socket is dropped instead.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    void client.end().catch(() => undefined);
  }
}

/** One pool's line of SHOW POOLS, the columns we read. */
export interface PoolRow {
  database: string;
  user: string;
  cl_active: string;
  cl_waiting: string;
  sv_active: string;
  sv_idle: string;
  maxwait: string;
  maxwait_us: string;
}

export interface PoolTotals {
  clientsActive: number;
  clientsWaiting: number;
  serversActive: number;
  serversIdle: number;
  /** The longest any client has waited, seconds. */
  maxWaitSeconds: number;
}

/** SHOW POOLS summed over every pool but the admin console's own. */
export function sumPools(rows: readonly PoolRow[]): PoolTotals {
  const totals: PoolTotals = { clientsActive: 0, clientsWaiting: 0, serversActive: 0, serversIdle: 0, maxWaitSeconds: 0 };
  for (const row of rows) {
    if (row.database === 'pgbouncer') continue;
    totals.clientsActive += Number(row.cl_active) || 0;
    totals.clientsWaiting += Number(row.cl_waiting) || 0;
    totals.serversActive += Number(row.sv_active) || 0;
    totals.serversIdle += Number(row.sv_idle) || 0;
    const wait = (Number(row.maxwait) || 0) + (Number(row.maxwait_us) || 0) / 1e6;
    totals.maxWaitSeconds = Math.max(totals.maxWaitSeconds, wait);
  }
  return totals;
}
