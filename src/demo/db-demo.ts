/**
 * `bulwark demo db`: one etcd, three PostgreSQL members run by the real daemon
 * in this process, the gateway's front door, and a writer through it, all on
 * loopback under DATA_DIR/demo-db/. The first run initialises the cluster
 * (`bulwark db init`'s code path, passed in by the CLI); later runs reuse it.
 *
 * start() resolves with the facts once the cluster is healthy: the writer's
 * inserts are acknowledged through the front door and both replicas stream in
 * the synchronous set (before that, a killed primary would have nobody to fail
 * over to). From then on every event goes to `onEvent`. stop() stops the
 * writer, the daemon (which stops PostgreSQL) and etcd; it is safe to call
 * twice, also while start() is still under way.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../core/logger.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { demoDbConfigYaml } from './db-config.js';
import { DemoEtcd, findEtcd } from './db-etcd.js';
import { DEMO_DB_DATABASE, DEMO_DB_MEMBERS, DEMO_DB_NAME, DEMO_DB_TABLE, DEMO_DB_USER, DemoDbLayout, type DemoDbPorts } from './db-layout.js';
import { DemoDbWatch, postmasterPid, readReplication, type DemoDbEvent, type DemoDbMember, type HaEventSource } from './db-watch.js';
import { DemoWriter, type Endpoint } from './db-writer.js';

export interface DemoDbOptions {
  /** DATA_DIR; everything goes to DATA_DIR/demo-db. */
  dataDir: string;
  /** The daemon's logger. */
  log: Logger;
  /** Where that logger writes, for the facts; null for stderr. */
  logFile: string | null;
  version: string;
  /**
   * Builds the real daemon (the CLI passes `new Daemon(...)`): the demo composes nothing itself, so
   * it needs no import of src/daemon (docs/architecture.md).
   */
  createDaemon: (o: { configFile: string; dataDir: string; log: Logger; version: string; listen: string }) => DemoDaemon;
  /** The first run's `bulwark db init` of database `main` of `configFile`. */
  initialise: (configFile: string, step: (text: string) => void) => Promise<void>;
  /** Start-up progress, for people. */
  onProgress?: (text: string) => void;
  /** Every live event once ready. */
  onEvent?: (event: DemoDbEvent) => void;
  /** Bound on start-up after etcd is up (init, elections, replicas catching up); 5 min by default. */
  readyTimeoutMs?: number;
}

/** The part of the daemon the demo drives. */
export interface DemoDaemon {
  readonly bus: HaEventSource;
  start(): Promise<void>;
  stop(drainMs: number): Promise<void>;
}

/** What `bulwark demo db` prints once ready; `--json` prints exactly this. */
export interface DemoDbFacts {
  readyMs: number;
  firstRun: boolean;
  config: string;
  dataDir: string;
  log: string | null;
  database: string;
  etcd: { pid: number; url: string; dataDir: string; log: string };
  members: Array<{ name: string; role: 'primary' | 'replica'; host: string; port: number; pid: number | undefined; dataDir: string }>;
  primary: string;
  frontDoor: { host: string; port: number; user: string; database: string; passfile: string };
  psql: string;
  table: string;
  writesAcknowledged: number;
  kill: string;
  switchover: string;
  status: string;
}

const DRAIN_MS = 10_000;
const POLL_MS = 250;

export class DemoDb {
  private readonly abort = new AbortController();
  private layout: DemoDbLayout | undefined;
  private etcd: DemoEtcd | undefined;
  private daemon: DemoDaemon | undefined;
  private writer: DemoWriter | undefined;
  private watch: DemoDbWatch | undefined;
  private starting: Promise<DemoDbFacts> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly onExit = (): void => {
    this.etcd?.killNow(); // PostgreSQL dies with this process (parent-death signal)
    this.layout?.release();
  };

  constructor(private readonly o: DemoDbOptions) {}

  start(): Promise<DemoDbFacts> {
    this.starting ??= this.startOnce();
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async startOnce(): Promise<DemoDbFacts> {
    const started = performance.now();
    const signal = this.abort.signal;
    const progress = (text: string): void => this.o.onProgress?.(text);
    await findEtcd(); // before anything is written
    const layout = (this.layout = await DemoDbLayout.open(join(this.o.dataDir, 'demo-db')));
    process.once('exit', this.onExit);
    await layout.ensurePassword();
    const ports = await layout.ports();
    progress(`starting etcd on 127.0.0.1:${ports.etcdClient} (data in ${layout.etcdDir})`);
    this.etcd = await DemoEtcd.start({ dataDir: layout.etcdDir, logFile: layout.etcdLog, clientPort: ports.etcdClient, peerPort: ports.etcdPeer, signal });
    const dataDirs = { pg1: layout.dataDir('pg1'), pg2: layout.dataDir('pg2'), pg3: layout.dataDir('pg3') };
    await writeFile(layout.config, demoDbConfigYaml({ ports, dataDirs, runAs: layout.runAs?.name, socketDir: layout.socketDir }));
    const firstRun = !(await layout.initialised());
    if (firstRun) await this.initialise(layout, progress);
    signal.throwIfAborted();

    const password = await layout.password();
    const members: DemoDbMember[] = DEMO_DB_MEMBERS.map((name) => ({
      name, port: ports.members[name], dataDir: dataDirs[name], endpoint: endpoint(ports.members[name], password, 'postgres'),
    }));
    const writer = (this.writer = new DemoWriter(endpoint(ports.frontDoor, password, DEMO_DB_DATABASE)));
    const daemon = (this.daemon = this.o.createDaemon({ configFile: layout.config, dataDir: layout.dir, log: this.o.log, version: this.o.version, listen: `127.0.0.1:${ports.api}` }));
    this.watch = new DemoDbWatch({
      bus: daemon.bus, database: DEMO_DB_NAME, writer, members, emit: (e) => this.o.onEvent?.(e),
      onError: (what, err) => this.o.log.warn({ err: errorMessage(err) }, `demo ${what} failed`),
    });
    progress(`starting the daemon: PostgreSQL ${members.map((m) => `${m.name} on ${m.port}`).join(', ')}; front door on 127.0.0.1:${ports.frontDoor}`);
    await daemon.start();

    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.o.readyTimeoutMs ?? 300_000)]);
    const admin = endpoint(ports.frontDoor, password, 'postgres');
    await this.until(deadline, 'a primary answering through the front door', () => ensureSchema(admin));
    progress('a primary answers through the front door; starting the writer');
    writer.start();
    await this.until(deadline, 'the first write acknowledged through the front door', async () => writer.acknowledged > 0 || undefined);
    const primary = await this.until(deadline, 'both replicas streaming in the synchronous set', async () => {
      const serving = members.find((m) => m.port === writer.lastAck?.port);
      const seen = serving ? await readReplication(serving.endpoint) : undefined;
      const sync = seen?.standbys.filter((s) => s.state === 'streaming' && (s.sync === 'quorum' || s.sync === 'sync')) ?? [];
      return seen && !seen.inRecovery && sync.length === members.length - 1 ? serving?.name : undefined;
    });
    this.watch.goLive(primary);
    return this.facts(layout, ports, members, primary, firstRun, Math.round(performance.now() - started));
  }

  /** `bulwark db init` of a fresh cluster; leftovers of a first run that did not finish are removed first. */
  private async initialise(layout: DemoDbLayout, progress: (text: string) => void): Promise<void> {
    for (const dir of await layout.removeUnfinishedInit()) progress(`removed ${dir}: left by a first run that did not finish`);
    progress('first run: initialising the cluster (bulwark db init: initdb pg1, base backups of pg2 and pg3)');
    await this.o.initialise(layout.config, (line) => progress(`  ${line}`));
    await layout.markInitialised();
  }

  private async stopOnce(): Promise<void> {
    this.abort.abort();
    await this.starting?.catch(() => undefined);
    try {
      await this.watch?.stop();
      await this.writer?.stop();
      await this.daemon?.stop(DRAIN_MS).catch((err: unknown) => this.o.log.error({ err: errorMessage(err) }, 'the daemon did not stop cleanly'));
      await this.etcd?.stop();
    } finally {
      this.layout?.release();
      process.removeListener('exit', this.onExit);
    }
  }

  /** Polls `check` until it returns a value; a failed check is retried (servers starting), the last error is reported. */
  private async until<T>(deadline: AbortSignal, what: string, check: () => Promise<T | undefined | false>): Promise<T> {
    let last = 'no answer yet';
    for (;;) {
      this.abort.signal.throwIfAborted();
      try {
        const value = await check();
        if (value !== undefined && value !== false) return value;
      } catch (err) {
        last = errorMessage(err);
      }
      if (deadline.aborted) {
        this.abort.signal.throwIfAborted();
        throw new BulwarkError('BACKEND_UNAVAILABLE', `the demo did not get ${what} in time (last: ${last})`, {
          hint: `see the daemon's log${this.o.logFile ? ` (${this.o.logFile})` : ''} and \`bulwark db status ${DEMO_DB_NAME} -c ${this.layout?.config ?? 'CONFIG'}\``,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private async facts(layout: DemoDbLayout, ports: DemoDbPorts, members: DemoDbMember[], primary: string, firstRun: boolean, readyMs: number): Promise<DemoDbFacts> {
    const rows = await Promise.all(members.map(async (m) => ({
      name: m.name, role: m.name === primary ? 'primary' as const : 'replica' as const, host: '127.0.0.1', port: m.port, pid: await postmasterPid(m.dataDir), dataDir: m.dataDir,
    })));
    const primaryPid = rows.find((r) => r.name === primary)?.pid;
    return {
      readyMs, firstRun, config: layout.config, dataDir: layout.dir, log: this.o.logFile, database: DEMO_DB_NAME,
      etcd: { pid: this.etcd?.pid ?? 0, url: this.etcd?.clientUrl ?? '', dataDir: layout.etcdDir, log: layout.etcdLog },
      members: rows, primary,
      frontDoor: { host: '127.0.0.1', port: ports.frontDoor, user: DEMO_DB_USER, database: DEMO_DB_DATABASE, passfile: layout.pgpass },
      psql: `PGPASSFILE=${layout.pgpass} psql -h 127.0.0.1 -p ${ports.frontDoor} -U ${DEMO_DB_USER} ${DEMO_DB_DATABASE}`,
      table: DEMO_DB_TABLE,
      writesAcknowledged: this.writer?.acknowledged ?? 0,
      kill: `kill -9 ${primaryPid ?? 'PID'}`,
      switchover: `npx bulwark db switchover ${DEMO_DB_NAME} -c ${layout.config}`,
      status: `npx bulwark db status ${DEMO_DB_NAME} -c ${layout.config}`,
    };
  }
}

function endpoint(port: number, password: string, database: string): Endpoint {
  return { host: '127.0.0.1', port, user: DEMO_DB_USER, password, database };
}

/** Through the front door: the `demo` database and its table, made once. */
async function ensureSchema(admin: Endpoint): Promise<true> {
  await withClient(admin, async (c) => {
    const { rows } = await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    if (rows[0]?.r !== false) throw new Error('the front door led to a member in recovery');
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DB_DATABASE]);
    if (exists.rowCount === 0) await c.query(`CREATE DATABASE ${DEMO_DB_DATABASE}`);
  });
  await withClient({ ...admin, database: DEMO_DB_DATABASE }, (c) => c.query(
    `CREATE TABLE IF NOT EXISTS ${DEMO_DB_TABLE} (run bigint NOT NULL, seq int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run, seq))`));
  return true;
}

async function withClient<T>(e: Endpoint, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ ...e, connectionTimeoutMillis: 5_000, query_timeout: 30_000, application_name: 'bulwark-demo' });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await use(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
