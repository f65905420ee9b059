/**
 * A throwaway PostgreSQL server for integration tests: real binaries, a temp
 * directory, a free port on 127.0.0.1, password (scram) authentication.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findPostgresBinDir } from '../postgres-ha/index.js';
import { freePort } from './net.js';
import { runAsUser, type RunAs } from './run-as.js';

const execFileAsync = promisify(execFile);
const START_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
const USER = 'bulwark';

export interface PostgresServer {
  /** URL of a fresh database `bulwark_test`, password included. */
  url: string;
  dataDir: string;
  port: number;
  /** Creates another empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}


/** Lives in src/postgres-ha/bin-dir.ts (the daemon uses it too); re-exported for the tests that import it from here. */
export { findPostgresBinDir };

async function prepareDir(runAs: RunAs | undefined, password: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-pg-'));
  await mkdir(join(dir, 'sock'));
  await writeFile(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (runAs) {
    for (const p of [dir, join(dir, 'sock'), join(dir, 'pwfile')]) await chown(p, runAs.uid, runAs.gid);
  }
  return dir;
}

async function initdb(bin: string, dir: string, runAs: RunAs | undefined): Promise<void> {
  const args = ['-D', join(dir, 'data'), '-U', USER, `--pwfile=${join(dir, 'pwfile')}`,
    '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync'];
  await execFileAsync(join(bin, 'initdb'), args, { cwd: dir, ...runAs }).catch((err: { stderr?: string }) => {
    throw new Error(`initdb failed: ${err.stderr ?? String(err)}`);
  });
}

function spawnPostgres(bin: string, dir: string, port: number, runAs: RunAs | undefined): ChildProcess {
  const args = ['-D', join(dir, 'data'), '-p', String(port), '-k', join(dir, 'sock'),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off'];
  return spawn(join(bin, 'postgres'), args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...runAs });
}

function collectOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-8192); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output;
}

function adminUrl(port: number, password: string, db: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls until the server accepts connections; fails fast if it exits. */
async function waitReady(child: ChildProcess, url: string, output: () => string): Promise<void> {
  let exited = child.exitCode !== null;
  const onExit = (): void => { exited = true; };
  child.once('exit', onExit);
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`postgres exited during startup:\n${output()}`);
      if (await canConnect(url)) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    throw new Error(`postgres did not accept connections within ${START_TIMEOUT_MS} ms:\n${output()}`);
  } finally {
    child.off('exit', onExit);
  }
}

async function stopServer(bin: string, dir: string, child: ChildProcess, runAs: RunAs | undefined): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await execFileAsync(join(bin, 'pg_ctl'), ['stop', '-D', join(dir, 'data'), '-m', 'immediate', '-w'], { cwd: dir, ...runAs })
      .catch(() => child.kill('SIGKILL'));
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
}

async function createDatabaseAt(port: number, password: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl(port, password, 'postgres') });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return adminUrl(port, password, name);
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = await findPostgresBinDir();
  const runAs = await runAsUser();
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const dir = await prepareDir(runAs, password);
  try {
    await initdb(bin, dir, runAs);
    const port = await freePort();
    const child = spawnPostgres(bin, dir, port, runAs);
    const output = collectOutput(child);
    await waitReady(child, adminUrl(port, password, 'postgres'), output).catch(async (err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    });
    let databases = 0;
    let stopped: Promise<void> | undefined;
    return {
      url: await createDatabaseAt(port, password, 'bulwark_test'),
      dataDir: join(dir, 'data'),
      port,
      createDatabase: () => createDatabaseAt(port, password, `bulwark_test_${++databases}`),
      stop: () => (stopped ??= stopServer(bin, dir, child, runAs)),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
