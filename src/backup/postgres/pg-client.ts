/** SQL connections to the server being backed up, and the settings a backup depends on. */
import pg from 'pg';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import { withPgClient } from '../../core/pg.js';
import type { PgConnection } from './types.js';

const CONNECT_TIMEOUT_MS = 10_000;

function where(connection: PgConnection): string {
  return `${connection.user}@${connection.host}:${connection.port}`;
}

/** Runs `fn` on a fresh connection; aborting `signal` closes the connection. */
export async function withClient<T>(connection: PgConnection, fn: (client: pg.Client) => Promise<T>, signal?: AbortSignal): Promise<T> {
  signal?.throwIfAborted();
  const connectFailed = (err: unknown): unknown => {
    signal?.throwIfAborted();
    return new BulwarkError('BACKEND_UNAVAILABLE', `cannot connect to PostgreSQL as ${where(connection)}: ${errorMessage(err)}`, {
      hint: 'check host, port, user and password, and that pg_hba.conf lets this host in',
      cause: err,
      context: { transient: true },
    });
  };
  try {
    const result = await withPgClient(connection, { applicationName: 'bulwark', connectTimeoutMs: CONNECT_TIMEOUT_MS, connectFailed, ...(signal ? { signal } : {}) }, fn);
    signal?.throwIfAborted();
    return result;
  } catch (err) {
    signal?.throwIfAborted();
    throw err;
  }
}

export interface ServerSettings {
  archiveMode: string;
  /** Undefined when the role may not read them. */
  archiveCommand: string | undefined;
  archiveLibrary: string | undefined;
  walLevel: string;
  walSegmentSize: number;
  inRecovery: boolean;
}

const UNIT_BYTES: Record<string, number> = { B: 1, kB: 1024, '8kB': 8192, MB: 1024 * 1024 };

export async function readServerSettings(client: pg.Client): Promise<ServerSettings> {
  const names = ['archive_mode', 'archive_command', 'archive_library', 'wal_level', 'wal_segment_size'];
  const rows = (await client.query<{ name: string; setting: string; unit: string | null }>(
    'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)', [names])).rows;
  const get = (name: string): { setting: string; unit: string | null } | undefined => rows.find((r) => r.name === name);
  const size = get('wal_segment_size');
  const inRecovery = (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r ?? false;
  return {
    archiveMode: get('archive_mode')?.setting ?? 'off',
    archiveCommand: get('archive_command')?.setting,
    archiveLibrary: get('archive_library')?.setting,
    walLevel: get('wal_level')?.setting ?? 'replica',
    walSegmentSize: size ? Number(size.setting) * (UNIT_BYTES[size.unit ?? 'B'] ?? 1) : 16 * 1024 * 1024,
    inRecovery,
  };
}

/**
 * A base backup taken without its WAL (-X none) is only restorable if the
 * server archives WAL; refuse early instead of producing a useless backup.
 */
export function checkArchiving(settings: ServerSettings, connection: PgConnection): void {
  const server = `${connection.host}:${connection.port}`;
  if (settings.walLevel === 'minimal') {
    throw new BulwarkError('USAGE', `wal_level is minimal on ${server}; WAL cannot be archived for point-in-time recovery`, {
      hint: 'set wal_level = replica (the default) and archive_mode = on, then restart PostgreSQL',
    });
  }
  if (settings.archiveMode === 'off' && !settings.inRecovery) {
    throw new BulwarkError('USAGE', `archive_mode is off on ${server}, so a base backup of it could not be restored`, {
      hint: "set archive_mode = on and archive_command = 'bulwark wal archive <policy> %p', then restart PostgreSQL",
    });
  }
  if (settings.archiveMode !== 'off' && settings.archiveCommand === '' && settings.archiveLibrary === '') {
    throw new BulwarkError('USAGE', `archive_mode is on but archive_command is empty on ${server}: no WAL is being archived`, {
      hint: "set archive_command = 'bulwark wal archive <policy> %p' and reload PostgreSQL",
    });
  }
}
