import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export type * from './store.js';
export type * from './alerting-types.js';
export type * from './status-subscribers-types.js';
export type * from './drill-runs-types.js';
export { OUTCOME_LOST } from './alerting-types.js';
export { DEFAULT_PROBE_RETENTION, ROLLUP_BUCKET_MS } from './store.js';
export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations.js';
export { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
export { openPostgresStore, type PostgresStoreOptions } from './postgres.js';

export interface OpenStoreOptions {
  dataDir: string;
  /** PostgreSQL URL; when absent the store is `<dataDir>/bulwark.db`. */
  postgres?: string;
  logger?: Logger;
}

export const SQLITE_FILE_NAME = 'bulwark.db';

/** Opens the store the options point at. Call `migrate()` before use. */
export function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.postgres) return openPostgresStore({ url: options.postgres, logger: options.logger });
  return openSqliteStore({ path: join(options.dataDir, SQLITE_FILE_NAME), logger: options.logger });
}
