import type { DrillConfig } from '../config/index.js';
import { errorMessage } from '../core/errors.js';
import { withPgClient } from '../core/pg.js';

interface Server { socketDir: string; port: number; user: string }

export interface DatabaseValidation { rowCounts: Record<string, number>; problems: string[] }

const QUERY_TIMEOUT_MS = 5 * 60_000;

/**
 * Runs the drill's checks in the restored database: each `sql` statement must
 * succeed (its count, or its number of rows, is recorded) and each table of
 * `min_rows` must hold at least that many rows.
 */
export async function validateDatabase(server: Server, validate: DrillConfig['validate'], signal?: AbortSignal): Promise<DatabaseValidation> {
  const out: DatabaseValidation = { rowCounts: {}, problems: [] };
  const target = { host: server.socketDir, port: server.port, user: server.user, database: validate?.database ?? 'postgres' };
  await withPgClient(target, { applicationName: 'bulwark-drill', connectTimeoutMs: 10_000, queryTimeoutMs: QUERY_TIMEOUT_MS, signal }, async (client) => {
    for (const sql of validate?.sql ?? []) {
      try {
        const result = await client.query<Record<string, unknown>>(sql);
        out.rowCounts[sql] = countOf(result.rows);
      } catch (err) {
        out.problems.push(`${sql}: ${errorMessage(err)}`);
      }
    }
    for (const [table, least] of Object.entries(validate?.min_rows ?? {})) {
      try {
        const rows = (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteTable(table)}`)).rows;
        const n = Number(rows[0]?.n ?? 0);
        out.rowCounts[table] = n;
        if (n < least) out.problems.push(`${table} has ${n} rows, at least ${least} expected`);
      } catch (err) {
        out.problems.push(`${table}: ${errorMessage(err)}`);
      }
    }
  });
  return out;
}

/** `SELECT count(*) ...` answers one number: that is the count; anything else counts its rows. */
function countOf(rows: Array<Record<string, unknown>>): number {
  const values = rows.length === 1 ? Object.values(rows[0]!) : [];
  const only = values.length === 1 ? Number(values[0]) : Number.NaN;
  return Number.isFinite(only) ? only : rows.length;
}

/** `orders` or `sales.orders`, each part quoted as an identifier. */
export function quoteTable(name: string): string {
  return name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.');
}
