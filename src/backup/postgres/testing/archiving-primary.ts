/**
 * A throwaway PostgreSQL primary that archives WAL (archive_mode=on,
 * archive_timeout=1s) through a given archive_command, for PITR tests.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findPostgresBinDir } from '../../../testing/postgres-server.js';
import { freePort } from '../../../testing/net.js';
import type { RunAs } from '../../../testing/run-as.js';
import { confString } from '../quoting.js';
import type { PgConnection } from '../types.js';

const execFileAsync = promisify(execFile);
const START_TIMEOUT_MS = 30_000;
export const SUPERUSER = 'bulwark';

export interface ArchivingPrimary {
  binDir: string;
  connection: PgConnection & { password: string };
  url: string;
  log(): string;
  stop(): Promise<void>;
}

async function initdb(binDir: string, dir: string, password: string, runAs: RunAs | undefined): Promise<string> {
  const data = join(dir, 'primary');
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) await execFileAsync('chown', [`${runAs.uid}:${runAs.gid}`, pwfile]);
  await execFileAsync(join(binDir, 'initdb'), ['-D', data, '-U', SUPERUSER, `--pwfile=${pwfile}`, '-A', 'scram-sha-256',
    '-E', 'UTF8', '--locale=C', '--no-sync'], { cwd: dir, ...runAs }).catch((err: { stderr?: string }) => {
    throw new Error(`initdb failed: ${err.stderr ?? String(err)}`);
  });
  return data;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function waitReady(child: ChildProcess, url: string, log: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited during startup:\n${log()}`);
    if (await canConnect(url)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`postgres did not start within ${START_TIMEOUT_MS} ms:\n${log()}`);
}

/** `dir` must exist and belong to `runAs` (when root). */
export async function startArchivingPrimary(dir: string, archiveCommand: string, runAs: RunAs | undefined): Promise<ArchivingPrimary> {
  const binDir = await findPostgresBinDir();
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const data = await initdb(binDir, dir, password, runAs);
  await appendFile(join(data, 'postgresql.auto.conf'), [
    "wal_level = 'replica'", "archive_mode = 'on'", `archive_command = ${confString(archiveCommand)}`,
    "archive_timeout = '1s'", "fsync = 'off'", "listen_addresses = '127.0.0.1'", `unix_socket_directories = ${confString(dir)}`, '',
  ].join('\n'));
  const port = await freePort();
  const child = spawn(join(binDir, 'postgres'), ['-D', data, '-p', String(port)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
  let output = '';
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-65536); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const connection = { host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' };
  const url = `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/postgres`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= (async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGQUIT');
    await exited;
  })());
  await waitReady(child, url, () => output).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { binDir, connection, url, log: () => output, stop };
}
