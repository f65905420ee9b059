/**
 * A three-member PostgreSQL HA cluster on this host for integration tests:
 * an EtcdCluster of 3, m1 initdb'd as primary, m2 and m3 base-backed-up
 * replicas with slots, and one MemberManager per member in this process,
 * each with its own etcd client (optionally through TcpRelays, to cut it off).
 * With `managersInChildren`, each member's manager runs in a child process
 * that also starts its PostgreSQL (`member-process.ts`), so a test can kill or
 * freeze a member's manager and PostgreSQL together, as a crashed host.
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EtcdClient } from '../../coordination/index.js';
import { EtcdCluster } from '../../testing/etcd-cluster.js';
import { TcpRelay } from '../../testing/tcp-relay.js';
import { findPostgresBinDir } from '../bin-dir.js';
import { memoryLogger } from '../../testing/memory-logger.js';
import { freePort } from '../../testing/net.js';
import { runAsUser } from '../../testing/run-as.js';
import { missingAcked } from '../../drills/sequence-writer.js';
import { MemberManager, type SyncRecord } from '../member-manager.js';
import { queryRows, type PgEndpoint } from '../pg-query.js';
import { PostgresMember, type PostgresMemberOptions } from '../postgres-process.js';
import { MemberProcess } from './member-process.js';
import type { MemberRunnerConfig } from './member-runner.js';

export interface HaClusterOptions {
  synchronousMode?: boolean;
  ttlSeconds?: number;
  loopWaitMs?: number;
  /** Members whose manager reaches etcd through relays (one per etcd member), so a test can cut them off. */
  relayed?: string[];
  /** synchronous_mode_strict: with no standby left, writes block rather than go asynchronous. */
  strict?: boolean;
  /**
   * Each member's MemberManager runs in a child process that also starts its PostgreSQL
   * (`member.process`, a MemberProcess), so a test can SIGKILL or SIGSTOP them together.
   * `member.manager` is then not available (it throws), and `member.pg` serves only for its endpoint.
   */
  managersInChildren?: boolean;
}

export interface HaMember {
  name: string;
  pg: PostgresMember;
  manager: MemberManager;
  etcd: EtcdClient;
  relays: TcpRelay[];
  /** With `managersInChildren`: the child process running this member's manager and PostgreSQL. */
  process?: MemberProcess;
}

const USER = 'bulwark';
const DATABASE = 'main-db';

export class HaCluster {
  readonly log = memoryLogger();
  readonly members: HaMember[] = [];
  /** An etcd client of the test itself, never cut. */
  etcdClient!: EtcdClient;
  /** The OS user PostgreSQL runs as when the tests run as root. */
  runAs: { uid: number; gid: number } | undefined;
  private readonly runnerConfigs = new Map<string, MemberRunnerConfig>();
  private constructor(readonly dir: string, readonly etcd: EtcdCluster, readonly password: string) {}

  static async start(options: HaClusterOptions = {}): Promise<HaCluster> {
    const [binDir, runAs, etcd] = await Promise.all([findPostgresBinDir(), runAsUser(), EtcdCluster.start()]);
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-ha-'));
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const cluster = new HaCluster(dir, etcd, password);
    cluster.runAs = runAs;
    try {
      await mkdir(join(dir, 'sock'));
      await writeFile(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
      if (runAs) for (const p of [dir, join(dir, 'sock'), join(dir, 'pwfile')]) await chown(p, runAs.uid, runAs.gid);
      cluster.etcdClient = new EtcdClient({ endpoints: etcd.clientUrls(), timeoutMs: 1000 });
      const names = ['m1', 'm2', 'm3'];
      const ports = await distinctPorts(names.length);
      const pgOptions = names.map((name, i): PostgresMemberOptions => ({
        name, binDir, dataDir: join(dir, name), socketDir: join(dir, 'sock'), host: '127.0.0.1', port: ports[i] ?? 0,
        user: USER, password, runAs, settings: { fsync: 'off' }, noSync: true, logger: cluster.log.log,
      }));
      const pgs = pgOptions.map((o) => new PostgresMember(o));
      const inChildren = options.managersInChildren ?? false;
      const [primary, ...replicas] = pgs;
      if (!primary) throw new Error('no members');
      await primary.initdb(join(dir, 'pwfile'));
      await primary.start();
      await primary.ensureSlots(replicas.map((r) => r.name));
      await queryRows(primary.endpoint, 'CREATE TABLE t (seq int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
      for (const replica of replicas) {
        await replica.basebackup(primary.endpoint);
        if (!inChildren) await replica.start();
      }
      // The runners start PostgreSQL themselves, so that it is part of their process tree.
      if (inChildren) await primary.stop();
      for (const [i, pg] of pgs.entries()) await cluster.addMember(pg, pgs, options, pgOptions[i]);
      if (inChildren) await cluster.startProcesses(options.synchronousMode ?? true);
      else await cluster.startManagers(options.synchronousMode ?? true);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  member(name: string): HaMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  targets(): { name: string; endpoint: PgEndpoint }[] {
    return this.members.map((m) => ({ name: m.name, endpoint: m.pg.endpoint }));
  }

  /** Members whose PostgreSQL answers and is not in recovery, asked directly. */
  async writable(timeoutMs = 300): Promise<string[]> {
    const answers = await Promise.all(this.members.map(async (m) => {
      try {
        const rows = await queryRows<{ r: boolean }>(m.pg.endpoint, 'SELECT pg_is_in_recovery() AS r', [], { timeoutMs });
        return rows[0]?.r === false ? m.name : undefined;
      } catch {
        return undefined;
      }
    }));
    return answers.filter((x): x is string => x !== undefined);
  }

  /** Acknowledged sequence numbers missing from `member`'s table: must be empty after every fault. */
  async missingSeqs(member: string, acked: readonly number[], table = 't'): Promise<number[]> {
    return missingAcked(this.member(member).pg.endpoint, table, acked);
  }

  /** Running, in recovery, and streaming from `leader` (pg_stat_wal_receiver). */
  async streamingFrom(member: string, leader: string): Promise<boolean> {
    const port = this.member(leader).pg.endpoint.port;
    const rows = await queryRows<{ r: boolean; s: string | null; p: number | null }>(this.member(member).pg.endpoint,
      'SELECT pg_is_in_recovery() AS r, (SELECT status FROM pg_stat_wal_receiver) AS s, (SELECT sender_port FROM pg_stat_wal_receiver) AS p', [], { timeoutMs: 1000 });
    return rows[0]?.r === true && rows[0].s === 'streaming' && rows[0].p === port;
  }

  async leader(): Promise<string | undefined> {
    return (await this.etcdClient.get(`/bulwark/db/${DATABASE}/leader`)).kv?.value;
  }

  async syncRecord(): Promise<SyncRecord | undefined> {
    const kv = (await this.etcdClient.get(`/bulwark/db/${DATABASE}/sync`)).kv;
    return kv ? (JSON.parse(kv.value) as SyncRecord) : undefined;
  }

  /**
   * `managersInChildren` only: starts a new child process for a member whose process is gone
   * (killed). By default the manager decides what to do with the stopped PostgreSQL, as after a
   * host reboot; `startPostgres` starts it first, as at bootstrap.
   */
  async restartMember(name: string, options: { startPostgres?: boolean } = {}): Promise<MemberProcess> {
    const m = this.member(name);
    const config = this.runnerConfigs.get(name);
    if (!config) throw new Error(`${name} does not run in a child process (managersInChildren)`);
    if (m.process?.running) throw new Error(`${name}'s process is still running`);
    return this.spawnMember(m, { ...config, startPostgres: options.startPostgres ?? false });
  }

  async stop(): Promise<void> {
    for (const m of this.members) {
      if (this.runnerConfigs.has(m.name)) await m.process?.kill().catch(() => undefined);
      // Bounded: a manager stuck in a long operation must not keep the rest of the cluster running.
      else await Promise.race([m.manager.stop().catch(() => undefined), new Promise((r) => setTimeout(r, 20_000))]);
    }
    for (const m of this.members) {
      await m.pg.fence().catch(() => undefined);
      await m.etcd.close().catch(() => undefined);
      for (const r of m.relays) await r.close().catch(() => undefined);
    }
    await this.etcdClient?.close().catch(() => undefined);
    await this.etcd.stopAll();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async addMember(pg: PostgresMember, all: PostgresMember[], options: HaClusterOptions, pgOptions?: PostgresMemberOptions): Promise<void> {
    const relays = options.relayed?.includes(pg.name) ? await Promise.all(this.etcd.clientUrls().map((u) => TcpRelay.start(u))) : [];
    const endpoints = relays.length > 0 ? relays.map((r) => r.url) : this.etcd.clientUrls();
    const etcd = new EtcdClient({ endpoints, timeoutMs: 1000 });
    const peers = all.filter((p) => p !== pg).map((p) => ({ name: p.name, endpoint: p.endpoint }));
    const settings = {
      synchronousMode: options.synchronousMode ?? true, synchronousModeStrict: options.strict ?? false,
      ttlSeconds: options.ttlSeconds ?? 10, loopWaitMs: options.loopWaitMs ?? 1000,
    };
    if (options.managersInChildren && pgOptions) {
      const { logger: _logger, ...pgConfig } = pgOptions;
      this.runnerConfigs.set(pg.name, { pg: pgConfig, database: DATABASE, peers, etcdEndpoints: endpoints, manager: settings, startPostgres: true });
      this.members.push({ name: pg.name, pg, manager: managerInChild(pg.name), etcd, relays });
      return;
    }
    const manager = new MemberManager({ database: DATABASE, pg, etcd, peers, ...settings, logger: this.log.log });
    this.members.push({ name: pg.name, pg, manager, etcd, relays });
  }

  private async spawnMember(m: HaMember, config: MemberRunnerConfig): Promise<MemberProcess> {
    m.process = await MemberProcess.start(config, { onLog: (line) => this.log.lines.push(line) });
    return m.process;
  }

  /** managersInChildren: m1's process first, until it holds the key; then the replicas'; then, in synchronous mode, until both are recorded. */
  private async startProcesses(synchronousMode: boolean): Promise<void> {
    const [first, ...rest] = this.members;
    if (!first) return;
    const config = (m: HaMember): MemberRunnerConfig => {
      const c = this.runnerConfigs.get(m.name);
      if (!c) throw new Error(`no runner configuration for ${m.name}`);
      return c;
    };
    await this.spawnMember(first, config(first));
    await waitUntil(() => first.process?.isLeader === true, 15_000, 'm1 to hold the leader key');
    await Promise.all(rest.map((m) => this.spawnMember(m, config(m))));
    if (synchronousMode) {
      await waitUntilAsync(async () => (await this.syncRecord())?.members.length === rest.length, 20_000, 'both replicas in the synchronous set');
    }
  }

  /** m1 first, until it holds the key; then the replicas; then, in synchronous mode, until both are recorded. */
  private async startManagers(synchronousMode: boolean): Promise<void> {
    const [first, ...rest] = this.members;
    if (!first) return;
    await first.manager.start();
    await waitUntil(() => first.manager.lease.isLeader, 15_000, 'm1 to hold the leader key');
    for (const m of rest) await m.manager.start();
    if (synchronousMode) {
      await waitUntilAsync(async () => (await this.syncRecord())?.members.length === rest.length, 20_000, 'both replicas in the synchronous set');
    }
  }
}

/** `member.manager` of a member whose manager runs in a child process: any use is a mistake in the test. */
function managerInChild(name: string): MemberManager {
  return new Proxy({}, {
    get: (_target, prop) => {
      throw new Error(`the manager of ${name} runs in a child process (managersInChildren): use member.process, not member.manager.${String(prop)}`);
    },
  }) as MemberManager;
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await waitUntilAsync(async () => predicate(), timeoutMs, what);
}

/** Polls: the conditions here (a key, a PostgreSQL setting) announce nothing we could wait on. */
export async function waitUntilAsync(predicate: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
