/**
 * `bulwark db init`: the first start of a PostgreSQL HA cluster on this host.
 *
 * init: initdb the primary (data checksums), start it, create a replication
 * slot for every other member, base-back-up the local replicas and check
 * that they stream, stop everything cleanly, and record in etcd the sync set
 * `{leader: primary, members: [primary]}`: at the managers' first start only
 * that member may take the leader key. `bulwark up` starts the servers.
 *
 * adopt: the data directories exist already. pg_controldata tells the
 * primary from the replicas; the slots are ensured on the primary (started
 * for that if it is stopped), every server is stopped, the sync set recorded.
 *
 * Every refusal happens before anything is written.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { EtcdClient } from '../coordination/index.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { DataDirLock } from './data-dir-lock.js';
import type { DatabaseKeys, SyncRecord } from './keys.js';
import { PostgresMember, type RunAs } from './postgres-process.js';
import { joinCluster, joinSource } from './bootstrap-join.js';
import { sleep } from '../core/time.js';

const execFileAsync = promisify(execFile);

export interface BootstrapMember {
  name: string;
  host: string;
  port: number;
  /** Set: the member lives on this host. Absent: another host bootstraps it. */
  dataDir?: string;
}

export interface BootstrapOptions {
  database: string;
  members: readonly BootstrapMember[];
  /** The member to initdb (init) or the one expected to be primary (adopt); the first local member by default. */
  primary?: string;
  adopt?: boolean;
  binDir: string;
  socketDir: string;
  /** The non-root user PostgreSQL runs as; required when this process is root. */
  runAs?: RunAs;
  superuser: string;
  password: string;
  /** The role the standbys replicate as; created on the primary before any base backup. The superuser when absent. */
  replication?: { user: string; password: string };
  /** postgresql.conf settings written at initdb. */
  settings?: Record<string, string>;
  etcd?: { client: EtcdClient; keys: DatabaseKeys };
  /** One line per step, as it happens. */
  onStep?: (text: string) => void;
  logger?: Logger;
  /** Bound on each server start and on waiting for a replica to stream; 60 s by default. */
  timeoutMs?: number;
}

export interface BootstrapResult {
  database: string;
  mode: 'init' | 'adopt' | 'join';
  primary: string;
  /** Local replicas, base-backed-up (init) or found (adopt). */
  replicas: string[];
  /** Members without data_dir: their slots exist, their data directory is made on their own host. */
  remote: string[];
  slots: string[];
  /** Per local member, from pg_controldata. */
  dataChecksums: Record<string, boolean>;
  /** The sync record written; undefined without etcd. */
  sync: SyncRecord | undefined;
  steps: string[];
}

const TOOLS = ['initdb', 'postgres', 'pg_ctl', 'pg_basebackup', 'pg_controldata'];

export async function bootstrap(o: BootstrapOptions): Promise<BootstrapResult> {
  const steps: string[] = [];
  const step = (text: string): void => {
    steps.push(text);
    o.onStep?.(text);
  };
  const source = await joinSource(o);
  const { local, primary: first } = await preflight(o, source !== undefined);
  if (source) return joinCluster(o, local, source, steps, step);
  const locks = await lockDataDirs(local);
  let primary: LocalMember;
  let slots: string[];
  try {
    primary = o.adopt ? await adopt(o, local, step) : first;
    slots = o.members.filter((m) => m.name !== primary.name).map((m) => m.name);
    if (!o.adopt) await init(o, local, primary, slots, step);
  } finally {
    await Promise.all(locks.map((lock) => lock.release()));
  }
  const remote = o.members.filter((m) => m.dataDir === undefined).map((m) => m.name);
  const replicas = local.filter((m) => m.name !== primary.name).map((m) => m.name);
  const dataChecksums: Record<string, boolean> = {};
  for (const m of local) dataChecksums[m.name] = (await controlData(o, m.dataDir)).checksums;
  let sync: SyncRecord | undefined;
  if (o.etcd) {
    sync = { leader: primary.name, members: [primary.name] };
    try {
      // A WAL position published by an earlier cluster would make the new members look far behind.
      if (await o.etcd.client.delete(o.etcd.keys.optime, { timeoutMs: 5000 })) step(`removed a stale ${o.etcd.keys.optime} of an earlier cluster`);
      await o.etcd.client.put(o.etcd.keys.sync, JSON.stringify(sync), { timeoutMs: 5000 });
    } catch (err) {
      throw new BulwarkError('COORDINATION_UNAVAILABLE', `the servers are ready but the sync record could not be written to etcd: ${errorMessage(err)}`, {
        cause: err, hint: `once etcd answers, run \`bulwark db init ${o.database} --adopt\`: it finds the primary and writes the record`,
      });
    }
    step(`recorded in etcd: ${o.etcd.keys.sync} = {leader: ${primary.name}, members: [${primary.name}]}`);
  }
  return { database: o.database, mode: o.adopt ? 'adopt' : 'init', primary: primary.name, replicas, remote, slots, dataChecksums, sync, steps };
}

export type LocalMember = BootstrapMember & { dataDir: string };

// ---------------------------------------------------------------- refusals

/** A running `bulwark up` on the same directories holds their locks: init and adopt are refused before they write. */
export async function lockDataDirs(local: readonly LocalMember[]): Promise<DataDirLock[]> {
  const locks: DataDirLock[] = [];
  try {
    for (const m of local) locks.push(await DataDirLock.acquire(m.dataDir, `bulwark db init of ${m.name}`, { allowRunningPostmaster: true }));
  } catch (err) {
    await Promise.all(locks.map((lock) => lock.release()));
    throw err;
  }
  return locks;
}

/** Joining (`source` elsewhere): no primary of ours to pick, and etcd holds the running cluster's keys. */
async function preflight(o: BootstrapOptions, joining = false): Promise<{ local: LocalMember[]; primary: LocalMember }> {
  const local = o.members.filter((m): m is LocalMember => m.dataDir !== undefined);
  if (local.length === 0) {
    throw new BulwarkError('USAGE', `no member of ${o.database} has a data_dir: none lives on this host`, {
      hint: `give the members on this host \`data_dir:\` in databases.${o.database}.postgres.members`,
    });
  }
  const primary = o.primary === undefined || joining ? local[0]! : local.find((m) => m.name === o.primary);
  if (!primary) {
    const known = o.members.some((m) => m.name === o.primary);
    throw new BulwarkError('USAGE', known ? `--primary ${o.primary} has no data_dir: it is not on this host` : `--primary ${o.primary}: ${o.database} has no such member`, {
      hint: `members with data_dir: ${local.map((m) => m.name).join(', ')}`,
    });
  }
  const dirs = new Set(local.map((m) => m.dataDir));
  if (dirs.size !== local.length) throw new BulwarkError('USAGE', `two members of ${o.database} share a data_dir`, { hint: 'give each member its own directory' });
  checkUser(o);
  for (const tool of TOOLS) {
    await access(join(o.binDir, tool), constants.X_OK).catch(() => {
      throw new BulwarkError('USAGE', `${tool} not found in ${o.binDir}`, { hint: `install the PostgreSQL server package, or set databases.${o.database}.postgres.bin_dir` });
    });
  }
  if (o.adopt) {
    for (const m of local) {
      if (!(await exists(join(m.dataDir, 'PG_VERSION')))) {
        throw new BulwarkError('BAD_REQUEST', `--adopt: ${m.name}'s data_dir ${m.dataDir} holds no PostgreSQL cluster`, { hint: 'run without --adopt to create the cluster, or fix data_dir' });
      }
    }
  } else {
    for (const m of local) await checkEmpty(m);
    for (const m of local) await checkPortFree(m);
  }
  if (!joining) await checkEtcdEmpty(o);
  return { local, primary };
}

function checkUser(o: BootstrapOptions): void {
  const uid = process.getuid?.();
  if (uid === 0 && !o.runAs) {
    throw new BulwarkError('USAGE', 'PostgreSQL refuses to run as root, and no run_as user is configured', {
      hint: `set databases.${o.database}.postgres.run_as to the user that owns the data directories (e.g. postgres), or run bulwark as that user`,
    });
  }
  if (uid !== undefined && uid !== 0 && o.runAs && o.runAs.uid !== uid) {
    throw new BulwarkError('USAGE', `run_as names uid ${o.runAs.uid}, but only root can start processes as another user`, { hint: 'run bulwark as that user (or as root)' });
  }
}

async function checkEmpty(m: LocalMember): Promise<void> {
  const entries = await readdir(m.dataDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw new BulwarkError('BAD_REQUEST', `cannot read ${m.name}'s data_dir ${m.dataDir}: ${err.code ?? err.message}`, { hint: 'check the path and its permissions' });
  });
  if (entries.length > 0) {
    throw new BulwarkError('BAD_REQUEST', `${m.name}'s data_dir ${m.dataDir} is not empty`, {
      hint: `to take over existing data directories, use \`bulwark db init --adopt\`; to start over, empty ${m.dataDir} yourself`,
    });
  }
}

async function checkPortFree(m: LocalMember): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(m.port, m.host, resolve));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BulwarkError('BAD_REQUEST', code === 'EADDRINUSE'
      ? `${m.name}'s port ${m.host}:${m.port} is in use`
      : `cannot listen on ${m.name}'s ${m.host}:${m.port}: ${code ?? errorMessage(err)}`, {
      hint: code === 'EADDRINUSE' ? 'stop what listens there, or give the member another port' : 'a member with data_dir must have a host address of this machine',
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function checkEtcdEmpty(o: BootstrapOptions): Promise<void> {
  if (!o.etcd) return;
  const { client, keys } = o.etcd;
  const call = { timeoutMs: 5000 };
  const [leader, ...records] = await Promise.all([client.get(keys.leader, call), ...o.members.map((m) => client.get(keys.member(m.name), call))]);
  if (leader.kv) {
    throw new BulwarkError('BAD_REQUEST', `etcd already has a leader for ${o.database} (${leader.kv.value}): the cluster is running`, { hint: `see \`bulwark db status ${o.database}\`` });
  }
  const present = o.members.filter((_, i) => records[i]?.kv).map((m) => m.name);
  if (present.length > 0) {
    throw new BulwarkError('BAD_REQUEST', `etcd already has member records for ${o.database} (${present.join(', ')}): their managers are running`, {
      hint: 'stop `bulwark up` on every host first (the records expire with their lease)',
    });
  }
}

// ---------------------------------------------------------------- init

async function init(o: BootstrapOptions, local: LocalMember[], primaryMember: LocalMember, slots: string[], step: (t: string) => void): Promise<void> {
  await ensureDir(o.socketDir, o.runAs, 0o755, false);
  for (const m of local) await ensureDir(m.dataDir, o.runAs, 0o700, true);
  const pwDir = await mkdtemp(join(tmpdir(), 'bulwark-init-'));
  const started: PostgresMember[] = [];
  try {
    const pwfile = join(pwDir, 'pwfile');
    await writeFile(pwfile, `${o.password}\n`, { mode: 0o600 });
    if (o.runAs) for (const p of [pwDir, pwfile]) await chown(p, o.runAs.uid, o.runAs.gid);
    const primary = member(o, primaryMember);
    await primary.initdb(pwfile);
    step(`initdb ${primary.name} in ${primaryMember.dataDir} (data checksums on)`);
    await startTracked(primary, started, o);
    step(`started ${primary.name} on ${primaryMember.host}:${primaryMember.port}`);
    if (o.replication && o.replication.user !== o.superuser) {
      await primary.ensureReplicationRole({ timeoutMs: 10_000 });
      step(`replication role ${o.replication.user} (LOGIN REPLICATION, scram) on ${primary.name}`);
    }
    if (slots.length > 0) {
      await primary.ensureSlots(slots, { timeoutMs: 10_000 });
      step(`replication slots on ${primary.name}: ${slots.join(', ')}`);
    }
    for (const m of local.filter((x) => x !== primaryMember)) {
      const replica = member(o, m);
      await replica.basebackup(primary.endpoint);
      await startTracked(replica, started, o);
      await waitStreaming(primary, replica.name, o.timeoutMs ?? 60_000);
      step(`base backup of ${m.name} from ${primary.name} into ${m.dataDir}; it streams`);
    }
    for (const pg of [...started].reverse()) await pg.stop();
    started.length = 0;
    step(`stopped ${local.map((m) => m.name).join(', ')} cleanly`);
  } catch (err) {
    throw new BulwarkError(isBulwarkCode(err) ?? 'INTERNAL', `init of ${o.database} failed: ${errorMessage(err)}`, {
      cause: err, hint: `nothing was written to etcd; empty ${local.map((m) => m.dataDir).join(', ')} before trying again`,
    });
  } finally {
    for (const pg of started) await pg.stop().catch(() => pg.fence());
    await rm(pwDir, { recursive: true, force: true });
  }
}

export async function startTracked(pg: PostgresMember, started: PostgresMember[], o: BootstrapOptions): Promise<void> {
  started.push(pg);
  await pg.start({ timeoutMs: o.timeoutMs ?? 60_000 });
}

/** Polls pg_stat_replication: the primary announces nothing when a standby connects. */
async function waitStreaming(primary: PostgresMember, name: string, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if ((await primary.streamingStandbys({ timeoutMs: 2000 }).catch((): string[] => [])).includes(name)) return;
    if (performance.now() > until) throw new BulwarkError('BACKEND_UNAVAILABLE', `${name} did not stream from ${primary.name} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// ---------------------------------------------------------------- adopt

interface Control { state: string; checksums: boolean; timeline: number }

/** pg_controldata states of a server that is neither starting nor stopping nor recovering from a crash. */
const SETTLED_STATES: readonly string[] = ['in production', 'shut down', 'in archive recovery', 'shut down in recovery'];

async function adopt(o: BootstrapOptions, local: LocalMember[], step: (t: string) => void): Promise<LocalMember> {
  const found: { m: LocalMember; control: Control; standby: boolean; running: boolean }[] = [];
  for (const m of local) {
    const control = await controlData(o, m.dataDir);
    const standby = await exists(join(m.dataDir, 'standby.signal'));
    found.push({ m, control, standby, running: await isRunning(o, m.dataDir) });
    step(`${m.name}: ${control.state}${standby ? ' (standby.signal)' : ''}, timeline ${control.timeline}, ${found.at(-1)!.running ? 'running' : 'stopped'}`);
  }
  const primaries = found.filter((f) => !f.standby && (f.control.state === 'in production' || f.control.state === 'shut down'));
  const unsettled = found.filter((f) => !SETTLED_STATES.includes(f.control.state));
  if (unsettled.length > 0) {
    throw new BulwarkError('BAD_REQUEST', `--adopt: ${unsettled.map((f) => `${f.m.name} is "${f.control.state}"`).join(', ')}`, { hint: 'let the server finish starting or stopping, then try again' });
  }
  if (primaries.length !== 1) {
    throw new BulwarkError('BAD_REQUEST', primaries.length === 0 ? `--adopt: no local member is a primary (every one is in recovery)` : `--adopt: ${primaries.map((f) => f.m.name).join(' and ')} are all primaries`, {
      hint: 'exactly one data directory must be a primary ("in production" or "shut down" without standby.signal); fix the others first',
    });
  }
  const primary = primaries[0]!;
  if (o.primary !== undefined && primary.m.name !== o.primary) {
    throw new BulwarkError('BAD_REQUEST', `--adopt: the primary is ${primary.m.name}, not ${o.primary}`, { hint: `leave --primary out, or pass --primary ${primary.m.name}` });
  }
  const slots = o.members.filter((m) => m.name !== primary.m.name).map((m) => m.name);
  const pg = member(o, primary.m);
  if (!primary.running) {
    try {
      await pg.start({ timeoutMs: o.timeoutMs ?? 60_000 });
      await pg.ensureSlots(slots, { timeoutMs: 10_000 });
      await pg.ensureReplicationRole({ timeoutMs: 10_000 });
    } finally {
      await pg.stop().catch(() => pg.fence());
    }
  } else {
    const prepare = async (): Promise<void> => {
      await pg.ensureSlots(slots, { timeoutMs: 10_000 });
      await pg.ensureReplicationRole({ timeoutMs: 10_000 });
    };
    await prepare().catch((err: unknown) => {
      throw new BulwarkError('BACKEND_UNAVAILABLE', `${primary.m.name} runs but does not answer on ${primary.m.host}:${primary.m.port} as ${o.superuser}: ${errorMessage(err)}`, {
        hint: 'check port, superuser and superuser_password in bulwark.yaml against the running server',
      });
    });
    await pgCtlStop(o, primary.m.dataDir);
  }
  if (slots.length > 0) step(`replication slots on ${primary.m.name}: ${slots.join(', ')}`);
  for (const f of found.filter((x) => x !== primary && x.running)) await pgCtlStop(o, f.m.dataDir);
  step(`stopped ${local.map((m) => m.name).join(', ')} cleanly`);
  return primary.m;
}

export async function controlData(o: Pick<BootstrapOptions, 'binDir' | 'runAs'>, dataDir: string): Promise<Control> {
  const { stdout } = await run(o, 'pg_controldata', [dataDir]);
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(stdout)?.[1]?.trim();
  const state = field('Database cluster state');
  if (state === undefined) throw new BulwarkError('INTERNAL', `pg_controldata ${dataDir} printed no cluster state`);
  return { state, checksums: Number(field('Data page checksum version') ?? '0') > 0, timeline: Number(field("Latest checkpoint's TimeLineID") ?? '0') };
}

async function isRunning(o: BootstrapOptions, dataDir: string): Promise<boolean> {
  try {
    await run(o, 'pg_ctl', ['status', '-D', dataDir]);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 3) return false;
    throw new BulwarkError('INTERNAL', `pg_ctl status -D ${dataDir} failed: ${(err as { stderr?: string }).stderr ?? errorMessage(err)}`);
  }
}

async function pgCtlStop(o: BootstrapOptions, dataDir: string): Promise<void> {
  await run(o, 'pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']).catch((err: { stderr?: string }) => {
    throw new BulwarkError('INTERNAL', `pg_ctl stop -D ${dataDir} failed: ${err.stderr ?? String(err)}`);
  });
}

// ---------------------------------------------------------------- helpers

export function member(o: BootstrapOptions, m: LocalMember): PostgresMember {
  return new PostgresMember({
    name: m.name, binDir: o.binDir, dataDir: m.dataDir, socketDir: o.socketDir, host: m.host, port: m.port,
    user: o.superuser, password: o.password, ...(o.replication ? { replication: o.replication } : {}), runAs: o.runAs, settings: o.settings, logger: o.logger ?? silentLogger(),
    peerHosts: o.members.filter((p) => p.name !== m.name).map((p) => p.host),
  });
}

function run(o: Pick<BootstrapOptions, 'binDir' | 'runAs'>, tool: string, args: string[]): Promise<{ stdout: string }> {
  return execFileAsync(join(o.binDir, tool), args, { env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, ...o.runAs });
}

export async function ensureDir(dir: string, runAs: RunAs | undefined, mode: number, own: boolean): Promise<void> {
  const existed = await exists(dir);
  // Parents get the usual mode: the PostgreSQL user must be able to traverse them.
  await mkdir(dirname(dir), { recursive: true });
  await mkdir(dir, { recursive: true, mode });
  if (!existed || own) {
    await chmod(dir, mode);
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

function isBulwarkCode(err: unknown): BulwarkError['code'] | undefined {
  return err instanceof BulwarkError ? err.code : undefined;
}
