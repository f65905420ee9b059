import { BulwarkError } from '../core/errors.js';
import type { Row, SqlDriver } from './driver.js';
import type { DrillOutcome, DrillRunRecord, DrillRunsQuery, DrillRunsStore } from './drill-runs-types.js';

const COLUMNS = 'id, drill, type, started_at, finished_at, outcome, measured, report';
const ORDER = 'started_at DESC, id DESC';

function runFromRow(r: Row): DrillRunRecord {
  return {
    id: String(r.id), drill: String(r.drill), type: String(r.type),
    startedAt: Number(r.started_at), finishedAt: Number(r.finished_at), outcome: String(r.outcome) as DrillOutcome,
    measured: JSON.parse(String(r.measured)) as unknown, report: JSON.parse(String(r.report)) as unknown,
  };
}

/** Drill runs over `SqlDriver`; see `drill-runs-types.ts`. */
export class DrillRunTables implements DrillRunsStore {
  constructor(private readonly driver: SqlDriver) {}

  async record(run: DrillRunRecord): Promise<void> {
    try {
      await this.driver.run(`INSERT INTO drill_runs (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [
        run.id, run.drill, run.type, run.startedAt, run.finishedAt, run.outcome, JSON.stringify(run.measured ?? null), JSON.stringify(run.report ?? null),
      ]);
    } catch (err) {
      if (!this.driver.isUniqueViolation(err)) throw err;
      throw new BulwarkError('BAD_REQUEST', `drill run ${run.id} is already recorded`, { hint: 'each run has its own id' });
    }
  }

  async list(query: DrillRunsQuery): Promise<DrillRunRecord[]> {
    const limit = Math.min(Math.max(Math.trunc(query.limit) || 1, 1), 1000);
    const where = query.drill === undefined ? '' : 'WHERE drill = ?';
    const rows = await this.driver.all(`SELECT ${COLUMNS} FROM drill_runs ${where} ORDER BY ${ORDER} LIMIT ${limit}`, query.drill === undefined ? [] : [query.drill]);
    return rows.map(runFromRow);
  }

  async get(idOrPrefix: string): Promise<DrillRunRecord | null> {
    if (!/^[0-9a-f-]{1,36}$/i.test(idOrPrefix)) return null;
    const rows = await this.driver.all(`SELECT ${COLUMNS} FROM drill_runs WHERE id LIKE ? ORDER BY ${ORDER} LIMIT 2`, [`${idOrPrefix.toLowerCase()}%`]);
    return rows.length === 1 ? runFromRow(rows[0]!) : null;
  }
}
