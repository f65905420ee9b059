/**
 * A throwaway PostgreSQL primary with one streaming replica, for integration
 * tests of the Postgres check: real binaries (found like the store's harness),
 * a temp directory, free ports on 127.0.0.1, scram authentication, a
 * replication role, and a physical replication slot so a stopped replica can
 * catch up again however much is written meanwhile.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { findPostgresBinDir } from '../../testing/postgres-server.js';
import { freePort } from '../../testing/net.js';
import { runAsUser, type RunAs } from '../../testing/run-as.js';
import { keepOutputTail } from '../../core/process.js';

const execFileAsync = promisify(execFile);
const START_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 50;
const USER = 'bulwark';
const REPLICATION_USER = 'replicator';
const SLOT = 'bulwark_replica';

export interface ReplicaHandle {
  port: number;
  /** Superuser URL of the replica (read-only), password included. */
  url: string;
  /** `pg_ctl stop -m fast`; safe to call when already stopped. */
  stop(): Promise<void>;
  /** Starts the replica again and waits until it streams from the primary. */
  start(): Promise<void>;
}

export interface PrimaryWithReplica {
  primary: { port: number; url: string };
  replica: ReplicaHandle;
  /** Password of the superuser `bulwark` (and of the replication role). */
  password: string;
  user: string;
  /** Stops both servers and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}




function url(port: number, password: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

async function run(file: string, args: string[], options: { cwd: string; runAs: RunAs | undefined; env?: NodeJS.ProcessEnv }): Promise<void> {
  await execFileAsync(file, args, { cwd: options.cwd, env: options.env ?? process.env, ...options.runAs })
    .catch((err: { stderr?: string }) => {
      throw new Error(`${file} ${args[0] ?? ''} failed: ${err.stderr ?? String(err)}`);
    });
}

async function prepareDir(runAs: RunAs | undefined, password: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-pgrepl-'));
  await mkdir(join(dir, 'sock'));
  await writeFile(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (runAs) {
    for (const p of [dir, join(dir, 'sock'), join(dir, 'pwfile')]) await chown(p, runAs.uid, runAs.gid);
  }
  return dir;
}

async function initPrimary(bin: string, dir: string, runAs: RunAs | undefined): Promise<void> {
  const data = join(dir, 'primary');
  await run(join(bin, 'initdb'), ['-D', data, '-U', USER, `--pwfile=${join(dir, 'pwfile')}`,
    '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync', '--data-checksums'], { cwd: dir, runAs });
  await appendFile(join(data, 'pg_hba.conf'),
    `\nhost replication ${REPLICATION_USER} 127.0.0.1/32 scram-sha-256\n`);
}

/** One running server: the child process and what it printed lately. */
class Server {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    private readonly bin: string,
    private readonly dir: string,
    private readonly dataDir: string,
    readonly port: number,
    private readonly runAs: RunAs | undefined,
  ) {}

  spawn(): void {
    const args = ['-D', this.dataDir, '-p', String(this.port), '-k', join(this.dir, 'sock'),
      '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
      '-c', 'wal_level=replica', '-c', 'max_wal_senders=5', '-c', 'max_replication_slots=5',
      '-c', 'hot_standby=on', '-c', 'wal_receiver_status_interval=1s'];
    this.output = '';
    const child = spawn(join(this.bin, 'postgres'), args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], ...this.runAs });
    keepOutputTail(child, 8192, (tail) => (this.output = tail));
    this.child = child;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Polls `probe` until it returns true; fails fast if the server exits. */
  async waitFor(what: string, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running()) throw new Error(`postgres on port ${this.port} exited while waiting for ${what}:\n${this.output}`);
      if (await probe().catch(() => false)) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
    throw new Error(`postgres on port ${this.port}: ${what} not reached within ${START_TIMEOUT_MS} ms:\n${this.output}`);
  }

  async stop(mode: 'fast' | 'immediate'): Promise<void> {
    const child = this.child;
    if (!child || !this.running()) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await run(join(this.bin, 'pg_ctl'), ['stop', '-D', this.dataDir, '-m', mode, '-w'], { cwd: this.dir, runAs: this.runAs })
      .catch(() => child.kill('SIGKILL'));
    await exited;
  }
}

async function queryOne<T>(connectionString: string, sql: string): Promise<T | undefined> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const result = await client.query(sql);
    return result.rows[0] as T | undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function basebackup(bin: string, dir: string, primaryPort: number, password: string, runAs: RunAs | undefined): Promise<void> {
  const data = join(dir, 'replica');
  await run(join(bin, 'pg_basebackup'), ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', REPLICATION_USER,
    '-D', data, '-R', '-X', 'stream', '-C', '-S', SLOT, '--no-sync', '--checkpoint=fast'],
  { cwd: dir, runAs, env: { ...process.env, PGPASSWORD: password } });
  // -R writes primary_conninfo from the connection it used; name the standby and
  // make sure the password is there (later settings in the file win).
  const conninfo = `host=127.0.0.1 port=${primaryPort} user=${REPLICATION_USER} password=${password} application_name=replica1`;
  await appendFile(join(data, 'postgresql.auto.conf'), `primary_conninfo = '${conninfo}'\n`);
}

function isStreaming(replicaUrl: string): () => Promise<boolean> {
  return async () => {
    const row = await queryOne<{ status: string }>(replicaUrl, 'SELECT status FROM pg_stat_wal_receiver');
    return row?.status === 'streaming';
  };
}

export async function startPrimaryWithReplica(): Promise<PrimaryWithReplica> {
  const bin = await findPostgresBinDir();
  const runAs = await runAsUser();
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const dir = await prepareDir(runAs, password);
  const servers: Server[] = [];
  const cleanup = async (): Promise<void> => {
    for (const server of [...servers].reverse()) await server.stop('immediate');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await initPrimary(bin, dir, runAs);
    const primary = new Server(bin, dir, join(dir, 'primary'), await freePort(), runAs);
    servers.push(primary);
    primary.spawn();
    const primaryUrl = url(primary.port, password);
    await primary.waitFor('accepting connections', async () => (await queryOne(primaryUrl, 'SELECT 1')) !== undefined);
    await queryOne(primaryUrl, `CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD '${password}'`);

    await basebackup(bin, dir, primary.port, password, runAs);
    const replica = new Server(bin, dir, join(dir, 'replica'), await freePort(), runAs);
    servers.push(replica);
    const replicaUrl = url(replica.port, password);
    const startReplica = async (): Promise<void> => {
      if (!replica.running()) replica.spawn();
      await replica.waitFor('WAL receiver streaming', isStreaming(replicaUrl));
    };
    await startReplica();

    let stopped: Promise<void> | undefined;
    return {
      primary: { port: primary.port, url: primaryUrl },
      replica: { port: replica.port, url: replicaUrl, stop: () => replica.stop('fast'), start: startReplica },
      password,
      user: USER,
      stop: () => (stopped ??= cleanup()),
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
