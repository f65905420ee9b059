/**
 * Runs PostgreSQL on a prepared data directory until recovery has reached its
 * target and the server promoted, and reports where it got to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BulwarkError } from '../../core/errors.js';
import { sleep } from '../../core/time.js';
import { findPgBinDir, postgresOsUser, type OsUser } from './pg-env.js';
import { recoveryFailed, ServerLog } from './server-log.js';

export interface StartRecoveryOptions {
  dataDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  /** Defaults to the binaries of the data directory's major version. */
  binDir?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** A superuser of the restored cluster (the initdb user); `postgres` by default. */
  user?: string;
  database?: string;
  /** Keep archive_mode from the configuration. Off by default: a restored copy must not archive into the original's archive. */
  archive?: boolean;
}

export interface RecoveryResult {
  /** Last WAL location replayed (pg_last_wal_replay_lsn()). */
  recoveredLsn: string;
  /** Commit time of the last transaction replayed; undefined when none was. */
  lastReplayedTransactionTime: Date | undefined;
  durationMs: number;
  /** The server's own account of where it stopped, e.g. `recovery stopping before commit of transaction 812, time ...`. */
  stopMessage: string | undefined;
}

export interface RecoveredServer {
  result: RecoveryResult;
  port: number;
  /** Unix socket directory: only the PostgreSQL user (and root) can enter it, and `user` connects there without a password. */
  socketDir: string;
  user: string;
  database: string;
  log(): string;
  /** Fast shutdown; safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 300_000;
const POLL_MS = 100;
const STOP_TIMEOUT_MS = 30_000;

interface Started {
  child: ChildProcess;
  log: ServerLog;
  socketDir: string;
}

async function privateSocketDir(dataDir: string, osUser: OsUser | undefined): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-recovery-'));
  // The cluster's own pg_hba.conf for TCP, behind a trust line for our private socket directory.
  const hba = await readFile(join(dataDir, 'pg_hba.conf'), 'utf8').catch(() => '');
  await writeFile(join(dir, 'pg_hba.conf'), `local all all trust\n${hba}`, { mode: 0o600 });
  if (osUser) for (const path of [dir, join(dir, 'pg_hba.conf')]) await chown(path, osUser.uid, osUser.gid);
  return dir;
}

function serverArgs(options: StartRecoveryOptions, socketDir: string): string[] {
  const settings = ['listen_addresses=127.0.0.1', `hba_file=${join(socketDir, 'pg_hba.conf')}`,
    `external_pid_file=${join(socketDir, 'postmaster.pid')}`,
    // Our log parsing needs English, UTC, stderr, and the process type (%b) to tell the startup process's FATAL from a client's.
    'logging_collector=off', 'log_destination=stderr', 'lc_messages=C', 'log_timezone=UTC', 'log_line_prefix=%m [%p] %b '];
  if (!options.archive) settings.push('archive_mode=off');
  return ['-D', options.dataDir, '-p', String(options.port), '-k', socketDir, ...settings.flatMap((s) => ['-c', s])];
}

async function startServer(options: StartRecoveryOptions): Promise<Started> {
  if (!(await access(join(options.dataDir, 'recovery.signal')).then(() => true, () => false))) {
    throw new BulwarkError('USAGE', `${options.dataDir} has no recovery.signal, so PostgreSQL would not recover from the WAL archive`, {
      hint: 'prepare the data directory for recovery (prepareRecovery) first',
    });
  }
  const version = (await readFile(join(options.dataDir, 'PG_VERSION'), 'utf8')).trim();
  const binDir = options.binDir ?? await findPgBinDir(['postgres'], version);
  const osUser = await postgresOsUser();
  const socketDir = await privateSocketDir(options.dataDir, osUser);
  const child = spawn(join(binDir, 'postgres'), serverArgs(options, socketDir), {
    cwd: socketDir, stdio: ['ignore', 'pipe', 'pipe'], ...(osUser ? { uid: osUser.uid, gid: osUser.gid } : {}),
  });
  const log = new ServerLog();
  child.stdout?.on('data', (chunk: Buffer) => log.append(chunk));
  child.stderr?.on('data', (chunk: Buffer) => log.append(chunk));
  child.once('error', (err) => log.append(Buffer.from(`FATAL:  could not start postgres: ${err.message}\n`)));
  return { child, log, socketDir };
}

function exited(child: ChildProcess): boolean {
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}

async function stopServer(started: Started): Promise<void> {
  const { child } = started;
  if (!exited(child) && child.pid !== undefined) {
    const done = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await done;
    clearTimeout(timer);
  }
  await rm(started.socketDir, { recursive: true, force: true });
}

interface Probe {
  inRecovery: boolean;
  replayLsn: string | null;
  replayTime: Date | null;
}

const NOT_READY = new Set(['57P03', 'ECONNREFUSED', 'ENOENT', 'ECONNRESET']);

/** Undefined while the server does not take connections yet. */
async function probe(socketDir: string, port: number, user: string, database: string): Promise<Probe | undefined> {
  const client = new pg.Client({ host: socketDir, port, user, database, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const row = (await client.query<Probe>(`SELECT pg_is_in_recovery() AS "inRecovery",
      pg_last_wal_replay_lsn()::text AS "replayLsn", pg_last_xact_replay_timestamp() AS "replayTime"`)).rows[0];
    return row;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== undefined && NOT_READY.has(code)) return undefined;
    if (code === '28000' || code === '3D000') {
      throw new BulwarkError('USAGE', `cannot connect to the recovering server: ${(err as Error).message}`, {
        hint: 'pass a superuser of the restored cluster (the user initdb created) and an existing database',
      });
    }
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function awaitPromotion(started: Started, options: StartRecoveryOptions, user: string, database: string): Promise<Probe> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    options.signal?.throwIfAborted();
    if (exited(started.child)) throw recoveryFailed(started.log);
    // Connecting earlier only fills the log with "the database system is starting up".
    const state = started.log.acceptsConnections() ? await probe(started.socketDir, options.port, user, database) : undefined;
    if (state && !state.inRecovery) return state;
    if (Date.now() >= deadline) {
      throw new BulwarkError('INTERNAL', `recovery did not finish within ${Math.round(timeoutMs / 1000)} s; the server last said: ${started.log.lastLine()}`, {
        hint: 'a large backup or much WAL takes longer: raise the timeout; the server log says how far replay got',
      });
    }
    await sleep(POLL_MS, options.signal);
    options.signal?.throwIfAborted();
  }
}

/**
 * Starts PostgreSQL on a data directory prepared by prepareRecovery (as the
 * `postgres` user when we are root), waits until it has recovered and
 * promoted, and returns the running server. If recovery fails, the error
 * quotes the server's FATAL message.
 */
export async function startAndAwaitRecovery(options: StartRecoveryOptions): Promise<RecoveredServer> {
  const began = Date.now();
  const user = options.user ?? 'postgres';
  const database = options.database ?? 'postgres';
  const started = await startServer(options);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopServer(started));
  try {
    const state = await awaitPromotion(started, options, user, database);
    const result: RecoveryResult = {
      recoveredLsn: state.replayLsn ?? '0/0',
      lastReplayedTransactionTime: state.replayTime ?? undefined,
      durationMs: Date.now() - began,
      stopMessage: started.log.stopMessage(),
    };
    return { result, port: options.port, socketDir: started.socketDir, user, database, log: () => started.log.text(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
