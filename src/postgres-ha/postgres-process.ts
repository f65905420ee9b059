/**
 * Control of one PostgreSQL member on this host: initdb, base backup, start,
 * stop, fence, promote, re-point, synchronous standbys, slots and WAL positions.
 *
 * Fencing is an immediate shutdown (SIGQUIT to the postmaster, what
 * `pg_ctl stop -m immediate` sends, without the pg_ctl fork): the postmaster
 * SIGQUITs every backend and exits in tens of milliseconds, so no write can
 * be acknowledged afterwards. The cost: transactions in flight are cut (never
 * acknowledged), the next start needs crash recovery, and the member stays
 * down until it is rejoined. SIGKILL of the postmaster alone would be faster
 * to send but leaves backends running until they notice, so it is only the
 * escalation when SIGQUIT does not end it in time.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { appendFile, chown, mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { parseLsn, type Lsn, type PgRole } from './decide.js';
import { confValue, conninfoValue, sqlLiteral } from '../core/pg-quote.js';
import { identifySystem, queryRows, withClient, type PgEndpoint, type QueryOptions } from './pg-query.js';
import { diesWithParent, keepOutputTail } from '../core/process.js';
import { sleep } from '../core/time.js';
import { hbaName, listenAddresses, peerHbaLines, writePeerHba } from './member-network.js';
import { synchronousStandbyNames, type SyncQuorum } from './sync-names.js';

export { synchronousStandbyNames, parseSynchronousStandbyNames, type SyncQuorum } from './sync-names.js';

const execFileAsync = promisify(execFile);

export interface RunAs { uid: number; gid: number }

export interface PostgresMemberOptions {
  name: string;
  binDir: string;
  dataDir: string;
  socketDir: string;
  host: string;
  port: number;
  /** Superuser: bulwark's own queries, pg_rewind. */
  user: string;
  password: string;
  /** The role standbys stream and base backups copy as (REPLICATION, not superuser); the superuser when absent. */
  replication?: { user: string; password: string };
  runAs?: RunAs;
  /** The other members' hosts: pg_hba.conf lets them in (member-network.ts); none on one host. */
  peerHosts?: readonly string[];
  /** synchronous_standby_names' method and count; ANY 1 by default. */
  syncQuorum?: SyncQuorum;
  /** Settings written into postgresql.conf at initdb (copied to replicas by the base backup). */
  settings?: Record<string, string>;
  /** Tests only: initdb, pg_basebackup and pg_rewind skip fsync (a crash of the host may then corrupt the copy). */
  noSync?: boolean;
  logger?: Logger;
}

export interface PgStatus {
  role: PgRole;
  timeline: number;
  /** Primary: current WAL position; replica: the further of received and replayed. */
  lsn: Lsn;
  /** Replica: host and port primary_conninfo points at. */
  upstream: { host: string; port: number } | undefined;
  /** Replica: whether its WAL receiver is streaming right now. */
  streaming?: boolean;
  /** Replica: its WAL receiver's status (`streaming`, `waiting`, ...) and the `host:port` it receives from. */
  receiver?: { status: string; sender: string | undefined };
}

/** Streaming replication settings every member shares. */
export const BASE_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1', wal_level: 'replica', max_wal_senders: '10', max_replication_slots: '10',
  hot_standby: 'on', wal_log_hints: 'on', synchronous_commit: 'on', wal_receiver_status_interval: '1s',
  wal_retrieve_retry_interval: '500ms', wal_sender_timeout: '10s', wal_receiver_timeout: '10s',
};

export class PostgresMember {
  readonly name: string;
  readonly endpoint: PgEndpoint;
  private child: ChildProcess | undefined;
  private output = '';
  private readonly log: Logger;

  constructor(private readonly o: PostgresMemberOptions) {
    this.name = o.name;
    this.endpoint = { host: o.host, port: o.port, user: o.user, password: o.password };
    this.log = (o.logger ?? silentLogger()).child({ component: 'postgres', member: o.name });
  }

  get binDir(): string {
    return this.o.binDir;
  }

  get dataDir(): string {
    return this.o.dataDir;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** Whether the data directory holds a cluster (PG_VERSION); a member added later has none. */
  hasDataDirectory(): boolean {
    return existsSync(join(this.o.dataDir, 'PG_VERSION'));
  }

  /** The server's recent output, for error messages. */
  recentOutput(): string {
    return this.output;
  }

  /** synchronous_standby_names for `names` with this member's quorum (sync-names.ts). */
  synchronousStandbyNames(names: readonly string[]): string {
    return synchronousStandbyNames(names, this.o.syncQuorum);
  }

  /** A new cluster with data checksums, scram authentication and replication allowed from loopback. */
  async initdb(pwfile: string): Promise<void> {
    await this.exec('initdb', ['-D', this.o.dataDir, '-U', this.o.user, `--pwfile=${pwfile}`, '-A', 'scram-sha-256',
      '-E', 'UTF8', '--locale=C', '--data-checksums', ...this.noSync()]);
    await this.ensureReplicationHba();
    const settings = { ...BASE_SETTINGS, ...this.o.settings };
    const lines = Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`);
    await appendFile(join(this.o.dataDir, 'postgresql.conf'), `\n# bulwark postgres-ha\n${lines.join('\n')}\n`);
  }

  /**
   * pg_hba.conf lets the replication role stream from loopback (scram). Clusters made before the
   * role existed get the line at their next start; the file is the member's own.
   */
  async ensureReplicationHba(): Promise<boolean> {
    const file = join(this.o.dataDir, 'pg_hba.conf');
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) return false;
    const line = `host replication ${hbaName(this.replication.user)} 127.0.0.1/32 scram-sha-256`;
    if (text.split('\n').some((l) => l.trim().replace(/\s+/g, ' ') === line)) return false;
    await appendFile(file, `${text.endsWith('\n') ? '' : '\n'}${line}\n`);
    return true;
  }

  /**
   * As the primary: the replication role exists, may log in and replicate, and has the configured
   * password. The password goes over as a SCRAM verifier, never in clear text (statement logs).
   */
  async ensureReplicationRole(options: QueryOptions = {}): Promise<void> {
    const { user, password } = this.replication;
    if (user === this.o.user) return;
    await withClient(this.endpoint, options, async (c) => {
      const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1', [user]);
      const verb = rows[0]?.n ? 'ALTER' : 'CREATE';
      // Not waiting for a synchronous standby: on a cluster made before the role existed, the standbys
      // cannot connect until it does. A new leader makes it again if this commit is lost in a failover.
      await c.query('BEGIN');
      await c.query('SET LOCAL synchronous_commit = local');
      await c.query(`${verb} ROLE ${sqlIdent(user)} WITH LOGIN REPLICATION NOSUPERUSER PASSWORD ${sqlLiteral(scramVerifier(password))}`);
      await c.query('COMMIT');
    });
  }

  /** A replica's data directory from `leader`, through the slot named after us (which must exist). */
  async basebackup(leader: PgEndpoint, signal?: AbortSignal): Promise<void> {
    await this.exec('pg_basebackup', ['-h', leader.host, '-p', String(leader.port), '-U', this.replication.user, '-D', this.o.dataDir,
      '-X', 'stream', '-S', this.name, '--checkpoint=fast', ...this.noSync()], { PGPASSWORD: this.replication.password }, signal);
    await this.writeStandbyConfig(leader);
  }

  /**
   * With the server stopped: standby.signal, and primary_conninfo/primary_slot_name in
   * postgresql.auto.conf (none without a leader: the server then only replays its own WAL).
   */
  async writeStandbyConfig(leader: PgEndpoint | undefined): Promise<void> {
    const auto = join(this.o.dataDir, 'postgresql.auto.conf');
    const kept = (await readFile(auto, 'utf8').catch(() => '')).split('\n')
      .filter((l) => !/^\s*(primary_conninfo|primary_slot_name|synchronous_standby_names)\s*=/.test(l));
    if (leader) kept.push(`primary_conninfo = ${confValue(this.conninfo(leader))}`, `primary_slot_name = ${confValue(this.name)}`);
    kept.push('');
    await writeFile(auto, kept.join('\n').replace(/\n+$/, '\n'), { mode: 0o600 });
    await this.armStandbySignal();
    await this.chownData(['postgresql.auto.conf']);
  }

  /**
   * standby.signal in the data directory, also while running as primary: PostgreSQL reads it only
   * at startup, so any later start of this directory (by us, by a supervisor, by hand) comes up
   * read-only. Becoming writable again takes a promotion, which only a lease holder does.
   */
  async armStandbySignal(): Promise<void> {
    await writeFile(join(this.o.dataDir, 'standby.signal'), '');
    await this.chownData(['standby.signal']);
  }

  /**
   * pg_rewind from `leader` (PostgreSQL 13+ first runs crash recovery in single-user mode when the
   * directory was not shut down cleanly; single-user mode refuses standby.signal, so it goes first).
   * Returns pg_rewind's verdict line. Throws when rewind is impossible or fails part way.
   */
  async rewind(leader: PgEndpoint, signal?: AbortSignal): Promise<string> {
    // pg_rewind reads the source's timeline from its control file, which a promotion updates only at
    // the next checkpoint: without one, a fresh primary looks like "the same timeline, no rewind required".
    await queryRows(leader, 'CHECKPOINT', [], { timeoutMs: 60_000, signal });
    await unlink(join(this.o.dataDir, 'standby.signal')).catch(() => undefined);
    const source = [`host=${conninfoValue(leader.host)}`, `port=${leader.port}`, `user=${conninfoValue(this.o.user)}`, 'dbname=postgres'].join(' ');
    const { stdout, stderr } = await this.exec('pg_rewind', ['-D', this.o.dataDir, `--source-server=${source}`, ...this.noSync()], { PGPASSWORD: leader.password }, signal);
    await this.writeStandbyConfig(leader);
    const lines = `${stdout}\n${stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
    this.log.info({ output: lines.slice(-20) }, 'pg_rewind finished');
    return lines.find((l) => /no rewind required|Done!/.test(l)) ?? lines[lines.length - 1] ?? 'pg_rewind finished';
  }

  /**
   * A fresh copy from `leader` when rewinding is impossible: the old directory is moved aside
   * first and deleted only once the base backup is complete, so a failed copy loses nothing.
   */
  async rebuild(leader: PgEndpoint, signal?: AbortSignal): Promise<void> {
    const aside = `${this.o.dataDir}.rejoin-old`;
    await this.recoverInterruptedRebuild();
    await rm(aside, { recursive: true, force: true });
    // The marker says "the directory aside is the real one" until the copy is complete.
    await writeFile(`${this.o.dataDir}.rebuilding`, `${new Date().toISOString()}\n`);
    if (existsSync(this.o.dataDir)) await rename(this.o.dataDir, aside);
    try {
      await mkdir(this.o.dataDir, { mode: 0o700 });
      if (this.o.runAs) await chown(this.o.dataDir, this.o.runAs.uid, this.o.runAs.gid);
      await this.basebackup(leader, signal);
    } catch (err) {
      await this.recoverInterruptedRebuild();
      throw err;
    }
    await unlink(`${this.o.dataDir}.rebuilding`);
    await rm(aside, { recursive: true, force: true });
  }

  /** After a crash during `rebuild`: the partial copy goes, the old directory comes back. */
  async recoverInterruptedRebuild(): Promise<boolean> {
    const marker = `${this.o.dataDir}.rebuilding`;
    if (!existsSync(marker)) return false;
    const aside = `${this.o.dataDir}.rejoin-old`;
    if (existsSync(aside)) {
      await rm(this.o.dataDir, { recursive: true, force: true });
      await rename(aside, this.o.dataDir);
    }
    await unlink(marker);
    this.log.warn({}, 'an interrupted base backup was rolled back to the previous data directory');
    return true;
  }

  /** pg_controldata's `Database cluster state`: `in production`, `in archive recovery`, `shut down`, `shut down in recovery`, ... */
  async controlState(): Promise<string> {
    const { stdout } = await this.exec('pg_controldata', ['-D', this.o.dataDir], { LC_ALL: 'C' });
    return /^Database cluster state:\s+(.+)$/m.exec(stdout)?.[1]?.trim() ?? 'unknown';
  }

  /** `Latest checkpoint location` from pg_controldata: after a clean shutdown, the last WAL record written. */
  async checkpointLsn(): Promise<Lsn> {
    const { stdout } = await this.exec('pg_controldata', ['-D', this.o.dataDir], { LC_ALL: 'C' });
    const m = /^Latest checkpoint location:\s+(\S+)$/m.exec(stdout);
    if (!m?.[1]) throw new BulwarkError('INTERNAL', `pg_controldata of ${this.name} shows no checkpoint location`);
    return parseLsn(m[1]);
  }

  async start(options: QueryOptions = {}): Promise<void> {
    if (this.running) return;
    await this.ensureReplicationHba();
    await writePeerHba(this.o.dataDir, peerHbaLines(this.o.host, this.o.peerHosts ?? [], { replicationUser: this.replication.user, tls: false }));
    const args = ['-D', this.o.dataDir, '-p', String(this.o.port), '-k', this.o.socketDir, '-c', `cluster_name=${this.name}`, '-c', `listen_addresses=${listenAddresses(this.o.host)}`];
    this.output = '';
    // The postmaster dies with us (Linux parent-death signal): a primary whose manager is gone is a
    // primary nobody can fence. This is what Patroni needs a watchdog device for.
    const [cmd, cmdArgs] = diesWithParent([join(this.o.binDir, 'postgres'), ...args]);
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], ...this.o.runAs });
    keepOutputTail(child, 16384, (tail) => (this.output = tail), this.output);
    child.once('exit', (code, signal) => this.log.info({ code, signal }, 'postgres exited'));
    this.child = child;
    await this.waitReady(options.timeoutMs ?? 30_000, options.signal);
    this.log.info({ port: this.o.port }, 'postgres started');
  }

  /** `pg_ctl stop -m fast`: a clean shutdown for planned stops. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    await this.exec('pg_ctl', ['stop', '-D', this.o.dataDir, '-m', 'fast', '-w', '-t', '30']).catch(() => child.kill('SIGKILL'));
    await exited;
  }

  /** Makes writes impossible as fast as PostgreSQL allows; see the file comment. */
  async fence(timeoutMs = 3000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGQUIT');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** For fault injection: a signal to the postmaster alone. Resolves when it has exited (SIGKILL/SIGQUIT/SIGTERM). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async status(options: QueryOptions = {}): Promise<PgStatus> {
    if (!this.running) return { role: 'stopped', timeline: 0, lsn: 0n, upstream: undefined };
    return readPgStatus(this.endpoint, options);
  }

  /**
   * Promotes a replica and waits until it accepts writes. The synchronous standbys it inherited from
   * its old primary are replaced first by `standbys` (none: asynchronous until the loop sets them).
   */
  async promote(options: QueryOptions & { standbys?: readonly string[] } = {}): Promise<void> {
    await withClient(this.endpoint, { timeoutMs: 30_000, ...options }, async (c) => {
      await c.query(`ALTER SYSTEM SET synchronous_standby_names = ${sqlLiteral(this.synchronousStandbyNames(options.standbys ?? []))}`);
      await c.query('SELECT pg_reload_conf()');
      const { rows } = await c.query<{ ok: boolean }>('SELECT pg_promote(true, 25) AS ok');
      if (rows[0]?.ok !== true) throw new BulwarkError('INTERNAL', `promotion of ${this.name} did not finish in 25 s`);
    });
  }

  /** A running replica follows another primary: PostgreSQL 13+ reloads primary_conninfo without a restart. */
  async follow(leader: PgEndpoint, options: QueryOptions = {}): Promise<void> {
    await withClient(this.endpoint, options, async (c) => {
      await c.query(`ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(this.conninfo(leader))}`);
      await c.query(`ALTER SYSTEM SET primary_slot_name = ${sqlLiteral(this.name)}`);
      await c.query('SELECT pg_reload_conf()');
    });
  }

  /**
   * `ANY 1 (a, b)`: a commit waits for any one of them. Resolves once a new
   * session sees the setting, i.e. the postmaster has reloaded it.
   */
  async setSynchronousStandbys(names: readonly string[], options: QueryOptions = {}): Promise<void> {
    const value = this.synchronousStandbyNames(names);
    await withClient(this.endpoint, options, async (c) => {
      await c.query(`ALTER SYSTEM SET synchronous_standby_names = ${sqlLiteral(value)}`);
      await c.query('SELECT pg_reload_conf()');
    });
    const until = performance.now() + (options.timeoutMs ?? 2000);
    for (;;) {
      const rows = await queryRows<{ v: string }>(this.endpoint, "SELECT current_setting('synchronous_standby_names') AS v", [], options);
      if (rows[0]?.v === value) return;
      if (performance.now() > until) throw new BulwarkError('INTERNAL', `synchronous_standby_names not applied on ${this.name}`);
      await sleep(20);
    }
  }

  /**
   * synchronous_standby_names as the server runs with it now, and as its configuration files
   * would set it at the next reload (undefined when no file sets it); and the next transaction
   * id, which counts write transactions without taking one.
   */
  async synchronousState(options: QueryOptions = {}): Promise<{ live: string; pending: string | undefined; nextXid: bigint }> {
    const rows = await queryRows<{ live: string; pending: string | null; xmax: string }>(this.endpoint, `
      SELECT current_setting('synchronous_standby_names') AS live,
        (SELECT setting FROM pg_file_settings WHERE name = 'synchronous_standby_names' AND error IS NULL ORDER BY seqno DESC LIMIT 1) AS pending,
        pg_snapshot_xmax(pg_current_snapshot())::text AS xmax`, [], options);
    const r = rows[0];
    if (!r) throw new BulwarkError('INTERNAL', `${this.name} returned no row for its synchronous state`);
    return { live: r.live, pending: r.pending ?? undefined, nextXid: BigInt(r.xmax) };
  }

  async ensureSlots(names: readonly string[], options: QueryOptions = {}): Promise<void> {
    await withClient(this.endpoint, options, async (c) => {
      for (const name of names) {
        await c.query('SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)', [name]);
      }
    });
  }

  /** Standbys streaming from us now, by application_name (= their member name). */
  async streamingStandbys(options: QueryOptions = {}): Promise<string[]> {
    const rows = await queryRows<{ n: string }>(this.endpoint, "SELECT application_name AS n FROM pg_stat_replication WHERE state = 'streaming'", [], options);
    return rows.map((r) => r.n);
  }

  private noSync(): string[] {
    return this.o.noSync ? ['--no-sync'] : [];
  }

  private get replication(): { user: string; password: string } {
    return this.o.replication ?? { user: this.o.user, password: this.o.password };
  }

  private conninfo(leader: PgEndpoint): string {
    return [`host=${conninfoValue(leader.host)}`, `port=${leader.port}`, `user=${conninfoValue(this.replication.user)}`,
      `password=${conninfoValue(this.replication.password)}`, `application_name=${conninfoValue(this.name)}`].join(' ');
  }

  private async waitReady(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      if (!this.running) throw new BulwarkError('BACKEND_UNAVAILABLE', `postgres ${this.name} exited during startup`, { context: { output: this.output } });
      try {
        await queryRows(this.endpoint, 'SELECT 1', [], { timeoutMs: 1000, signal });
        return;
      } catch (err) {
        if (performance.now() > until) {
          throw new BulwarkError('BACKEND_UNAVAILABLE', `postgres ${this.name} not ready within ${timeoutMs} ms: ${errorMessage(err)}`, { context: { output: this.output } });
        }
      }
      await sleep(50);
    }
  }

  /** Runs a PostgreSQL tool; an abort (the manager stopping) kills it rather than waiting it out. */
  private async exec(tool: string, args: string[], env: Record<string, string> = {}, signal?: AbortSignal): Promise<{ stdout: string; stderr: string }> {
    return execFileAsync(join(this.o.binDir, tool), args, { env: { ...process.env, ...env }, ...this.o.runAs, ...(signal ? { signal } : {}) })
      .catch((err: { stderr?: string }) => {
        throw new BulwarkError('INTERNAL', `${tool} failed for ${this.name}: ${(err.stderr ?? String(err)).trim()}`);
      });
  }

  private async chownData(files: string[]): Promise<void> {
    const runAs = this.o.runAs;
    if (!runAs) return;
    await execFileAsync('chown', [`${runAs.uid}:${runAs.gid}`, ...files.map((f) => join(this.o.dataDir, f))]);
  }
}

export async function readPgStatus(endpoint: PgEndpoint, options: QueryOptions): Promise<PgStatus> {
  const rows = await queryRows<{ recovery: boolean; current: string | null; receive: string | null; replay: string | null; tli: number | null; conninfo: string; receiver: string | null; sender: string | null }>(endpoint, `
    SELECT pg_is_in_recovery() AS recovery,
      CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current,
      pg_last_wal_receive_lsn()::text AS receive, pg_last_wal_replay_lsn()::text AS replay,
      CASE WHEN pg_is_in_recovery()
        THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))
        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tli,
      current_setting('primary_conninfo') AS conninfo,
      (SELECT status FROM pg_stat_wal_receiver) AS receiver,
      (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver) AS sender`, [], options);
  const r = rows[0];
  if (!r) throw new BulwarkError('INTERNAL', 'status query returned no row');
  const lsns = [r.current, r.receive, r.replay].filter((x): x is string => x !== null).map(parseLsn);
  let lsn = lsns.reduce((a, b) => (b > a ? b : a), 0n);
  let timeline = r.tli ?? 0;
  if (r.recovery) {
    // The SQL view of a standby's timeline is stale once its WAL receiver stopped (the moment that
    // matters: the primary just died); the replication protocol tells the replayed timeline.
    const id = await identifySystem(endpoint, options).catch(() => undefined);
    if (id) {
      timeline = id.timeline;
      lsn = parseLsn(id.xlogpos);
    }
  }
  return {
    role: r.recovery ? 'replica' : 'primary', timeline, lsn,
    upstream: r.recovery ? parseUpstream(r.conninfo) : undefined, streaming: r.recovery ? r.receiver === 'streaming' : undefined,
    ...(r.receiver ? { receiver: { status: r.receiver, sender: r.sender ?? undefined } } : {}),
  };
}

function parseUpstream(conninfo: string): { host: string; port: number } | undefined {
  const host = /(?:^|\s)host='?([^'\s]+)/.exec(conninfo)?.[1];
  const port = /(?:^|\s)port='?(\d+)/.exec(conninfo)?.[1];
  return host && port ? { host, port: Number(port) } : undefined;
}

function sqlIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677, as libpq's PQencryptPasswordConn makes it). */
export function scramVerifier(password: string, iterations = 4096, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
