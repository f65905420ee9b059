import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SqlConnection, SqlDriver, SqlExecutor } from './driver.js';
import { BOOTSTRAP_SQL, HAS_TABLE_SQL, type Dialect, type Migration } from './migrations.js';
import type { MigrationResult } from './store.js';

async function appliedVersions(conn: SqlExecutor, dialect: Dialect): Promise<Set<number>> {
  const [row] = await conn.all<{ n: number }>(HAS_TABLE_SQL[dialect], ['schema_migrations']);
  if (Number(row?.n ?? 0) === 0) return new Set();
  const rows = await conn.all<{ version: number }>('SELECT version FROM schema_migrations');
  return new Set(rows.map((r) => Number(r.version)));
}

export async function readSchemaVersion(conn: SqlExecutor, dialect: Dialect): Promise<number> {
  return Math.max(0, ...(await appliedVersions(conn, dialect)));
}

function schemaTooNew(found: number, known: number): BulwarkError {
  return new BulwarkError(
    'STORE_SCHEMA_TOO_NEW',
    `store schema version ${found} is newer than this binary supports (version ${known})`,
    {
      hint: 'this store was written by a newer Bulwark; upgrade the binary, or point --data-dir at another directory',
      context: { found, known },
    },
  );
}

async function applyOne(conn: SqlConnection, dialect: Dialect, m: Migration): Promise<boolean> {
  return conn.transaction(async (tx) => {
    // Another process may have applied it since we looked.
    const done = await tx.all('SELECT 1 FROM schema_migrations WHERE version = ?', [m.version]);
    if (done.length > 0) return false;
    await tx.exec(m[dialect]);
    await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
      m.version, m.name, new Date().toISOString(),
    ]);
    return true;
  });
}

function migrationFailed(m: Migration, at: number, cause: unknown): BulwarkError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new BulwarkError('STORE_MIGRATION_FAILED', `store migration ${m.version} (${m.name}) failed: ${reason}`, {
    hint: `the store was left at schema version ${at}; fix the cause and start Bulwark again`,
    cause,
    context: { version: m.version, name: m.name },
  });
}

export async function runMigrations(
  driver: SqlDriver,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<MigrationResult> {
  const latest = Math.max(0, ...migrations.map((m) => m.version));
  return driver.withMigrationLock(async (conn) => {
    const applied = await appliedVersions(conn, driver.dialect);
    const from = Math.max(0, ...applied);
    if (from > latest) throw schemaTooNew(from, latest);
    const pending = migrations.filter((m) => !applied.has(m.version));
    if (pending.length === 0) return { from, to: from };
    await conn.exec(BOOTSTRAP_SQL[driver.dialect]);
    for (const m of pending) {
      try {
        if (await applyOne(conn, driver.dialect, m)) logger.info({ version: m.version, name: m.name }, 'store migration applied');
      } catch (err) {
        throw migrationFailed(m, await readSchemaVersion(conn, driver.dialect), err);
      }
    }
    return { from, to: await readSchemaVersion(conn, driver.dialect) };
  });
}
