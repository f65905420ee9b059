/**
 * PostgreSQL failover inside `bulwark up`: for every PostgreSQL database with
 * members on this host (`data_dir`) and `coordination.etcd`, one PostgreSQL
 * process, one MemberManager and, with `health_port`, one health endpoint per
 * local member, all sharing one etcd client. Configuration reloads apply the
 * settings a running loop can take, start added members and stop removed ones.
 *
 * Without etcd there is no leader election: the members are not started, and
 * the service says so once per database.
 */
import type { Registry } from 'prom-client';
import { EtcdClient, type EtcdClientOptions } from '../coordination/index.js';
import type { BulwarkConfig } from '../config/index.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Subsystem } from '../core/lifecycle.js';
import type { EventBus } from '../events/index.js';
import type { Store } from '../store/index.js';
import { readDatabaseView, type DatabaseView } from './database-view.js';
import { etcdSettings, haPlans, reconfiguration, restartOnlyChanges, sameEtcd, type DatabaseHaPlan, type EtcdSettings, type HaManagerSettings, type LocalMemberPlan } from './ha-config.js';
import { HaMetrics, type MemberSample } from './ha-metrics.js';
import { DataDirLock } from './data-dir-lock.js';
import { HealthServer } from './health-server.js';
import { thisHost, type HostIdentity } from './member-selection.js';
import type { HistoryEntry } from './keys.js';
import { MemberManager, type MemberManagerEvents, type MemberManagerOptions, type MemberSnapshot, type ReconfigurableSettings } from './member-manager.js';
import { PostgresMember } from './postgres-process.js';
import { resolveRuntime, type MemberRuntime } from './runtime.js';

/** Events on the daemon's bus, for alerting (incidents) and anything else that listens. `at` is wall-clock ms. */
export interface DatabaseHaEvents extends Record<string, unknown> {
  'database.promoted': { database: string; member: string; at: number };
  'database.fenced': { database: string; member: string; reason: string; at: number };
  'database.rejoined': { database: string; member: string; method: 'pg_rewind' | 'basebackup' | 'start'; durationMs: number; detail: string; at: number };
  /** A completed failover, switchover or manual failover, as the new primary recorded it. */
  'database.failover': { database: string; member: string; entry: HistoryEntry; at: number };
}

/** The part of MemberManager the service uses (tests substitute a fake). */
export interface ManagedMember {
  readonly name: string;
  start(): Promise<void>;
  stop(deadline?: AbortSignal): Promise<void>;
  reconfigure(next: ReconfigurableSettings): void;
  snapshot(): MemberSnapshot;
  on<K extends keyof MemberManagerEvents>(event: K, listener: (...args: MemberManagerEvents[K]) => void): unknown;
  off<K extends keyof MemberManagerEvents>(event: K, listener: (...args: MemberManagerEvents[K]) => void): unknown;
}

export interface DatabaseHaServiceOptions {
  config: BulwarkConfig;
  /** `bulwark up --node`: run the members whose host (or name) this is; by default those on this host's addresses (member-selection.ts). */
  node?: string;
  /** Tests: this host's identity instead of the OS's. */
  host?: HostIdentity;
  bus: EventBus<DatabaseHaEvents>;
  registry: Registry;
  log: Logger;
  /** Where promotions, fencing and rejoins are also recorded (`GET /api/v1/events`). */
  events?: Pick<Store, 'appendEvent'>;
  /** Seams for tests. */
  createManager?: (options: MemberManagerOptions) => ManagedMember;
  createEtcd?: (options: EtcdClientOptions) => EtcdClient;
  resolveRuntime?: (plan: DatabaseHaPlan) => Promise<MemberRuntime>;
  lockDataDir?: (dataDir: string, purpose: string) => Promise<Pick<DataDirLock, 'release'>>;
}

interface RunningMember {
  /** The plan the member was started from: changes that need a restart are compared with it. */
  plan: DatabaseHaPlan;
  member: LocalMemberPlan;
  /** Settings the manager runs with now (start, then each reconfigure). */
  settings: HaManagerSettings;
  pg: PostgresMember;
  manager: ManagedMember;
  health: HealthServer | undefined;
  /** Held from before the first write to the data directory until PostgreSQL has stopped. */
  lock: Lock;
  unsubscribe: () => void;
}

const STOP_ON_RELOAD_MS = 60_000;

export class DatabaseHaService implements Subsystem<BulwarkConfig> {
  readonly name = 'postgres-ha';
  private plans = new Map<string, DatabaseHaPlan>();
  private etcdConfig: EtcdSettings | undefined;
  private readonly host: HostIdentity;
  private etcd: EtcdClient | undefined;
  /** database → member → running member. */
  private readonly running = new Map<string, Map<string, RunningMember>>();
  private readonly warnedNoEtcd = new Set<string>();
  private readonly metrics: HaMetrics;
  private readonly log: Logger;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: DatabaseHaServiceOptions) {
    this.log = o.log;
    this.metrics = new HaMetrics(o.registry, () => this.samples());
    this.host = o.host ?? thisHost(o.node);
    this.plans = planMap(o.config, this.host);
    this.etcdConfig = etcdSettings(o.config.coordination);
  }

  async start(): Promise<void> {
    try {
      await this.startAll();
    } catch (err) {
      await this.stopAll(AbortSignal.timeout(STOP_ON_RELOAD_MS));
      throw err;
    }
  }

  async stop(deadline: AbortSignal): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.stopAll(deadline);
  }

  reload(config: BulwarkConfig): Promise<void> {
    this.queue = this.queue.catch(() => undefined).then(() => this.apply(config));
    return this.queue;
  }

  /** Snapshots of the members this daemon runs. */
  snapshots(): MemberSample[] {
    return this.samples();
  }

  /** Every PostgreSQL database in the configuration, in order. */
  async databases(): Promise<DatabaseView[]> {
    return Promise.all([...this.plans.keys()].map(async (name) => this.view(name) as Promise<DatabaseView>));
  }

  /** One PostgreSQL database; undefined when there is none by that name. */
  async database(name: string): Promise<DatabaseView | undefined> {
    return this.plans.has(name) ? this.view(name) : undefined;
  }

  databaseNames(): string[] {
    return [...this.plans.keys()];
  }

  private async view(name: string): Promise<DatabaseView | undefined> {
    const plan = this.plans.get(name);
    if (!plan) return undefined;
    const members = this.running.get(name);
    const snapshots = new Map([...(members?.values() ?? [])].map((r) => [r.member.name, r.manager.snapshot()] as const));
    return readDatabaseView(plan, snapshots, (members?.size ?? 0) > 0, this.etcd, plan.settings.requestTimeoutMs);
  }

  private samples(): MemberSample[] {
    const out: MemberSample[] = [];
    for (const [database, members] of this.running) for (const r of members.values()) out.push({ database, snapshot: r.manager.snapshot() });
    return out;
  }

  private async startAll(): Promise<void> {
    if (this.etcdConfig && this.plans.size > 0) this.etcd = this.newEtcd(this.etcdConfig);
    const plans = [...this.plans.values()].filter((plan) => this.shouldRun(plan));
    // Every data directory first: a second daemon on the same directories is refused before it writes anything.
    const locks = await this.lockAll(plans.flatMap((plan) => plan.local.map((member) => ({ plan, member }))));
    try {
      for (const plan of plans) {
        const runtime = await this.runtime(plan);
        for (const member of plan.local) await this.startMember(plan, member, runtime, takeLock(locks, member.dataDir));
      }
    } finally {
      await Promise.all([...locks.values()].map((lock) => lock.release()));
    }
  }

  private async stopAll(deadline: AbortSignal): Promise<void> {
    const all = [...this.running.entries()].flatMap(([database, members]) => [...members.values()].map((r) => ({ database, r })));
    // Together: every loop is aborted before any leader lets its key go, so no local replica takes over in between.
    await Promise.all(all.map(({ database, r }) => this.stopMember(database, r, deadline, 'daemon stopping')));
    this.running.clear();
    await this.etcd?.close().catch(() => undefined);
    this.etcd = undefined;
  }

  private shouldRun(plan: DatabaseHaPlan): boolean {
    if (plan.local.length === 0) return false;
    if (plan.etcd) return true;
    if (!this.warnedNoEtcd.has(plan.database)) {
      this.warnedNoEtcd.add(plan.database);
      this.log.warn({ database: plan.database, members: plan.local.map((m) => m.name) },
        'automatic failover is off: coordination.etcd is not set, so bulwark does not start or supervise the PostgreSQL members on this host; set coordination.etcd to turn it on');
    }
    return false;
  }

  private async runtime(plan: DatabaseHaPlan): Promise<MemberRuntime> {
    return (this.o.resolveRuntime ?? resolveRuntime)(plan);
  }

  private newEtcd(s: EtcdSettings): EtcdClient {
    const options: EtcdClientOptions = { endpoints: s.endpoints, username: s.username, password: s.password };
    return (this.o.createEtcd ?? ((o) => new EtcdClient(o)))(options);
  }

  /** Locks every member's data directory, or none: on a refusal the ones already taken are let go. */
  private async lockAll(members: Array<{ plan: DatabaseHaPlan; member: LocalMemberPlan }>): Promise<Map<string, Lock>> {
    const acquire = this.o.lockDataDir ?? ((dir, purpose) => DataDirLock.acquire(dir, purpose));
    const locks = new Map<string, Lock>();
    try {
      for (const { plan, member } of members) locks.set(member.dataDir, await acquire(member.dataDir, `the member manager of ${plan.database}/${member.name}`));
    } catch (err) {
      await Promise.all([...locks.values()].map((lock) => lock.release()));
      throw err;
    }
    return locks;
  }

  private async startMember(plan: DatabaseHaPlan, member: LocalMemberPlan, runtime: MemberRuntime, lock: Lock): Promise<void> {
    const etcd = this.etcd;
    if (!etcd) return lock.release();
    const log = this.log.child({ database: plan.database, member: member.name });
    const pg = new PostgresMember({
      name: member.name, binDir: runtime.binDir, dataDir: member.dataDir, socketDir: plan.socketDir, host: member.host, port: member.port,
      user: plan.superuser, password: plan.password, replication: plan.replication, runAs: runtime.runAs, settings: plan.pgSettings, logger: log,
      peerHosts: member.peers.map((p) => p.endpoint.host), syncQuorum: plan.settings.synchronousQuorum,
    });
    const manager = (this.o.createManager ?? ((o) => new MemberManager(o)))({
      database: plan.database, prefix: plan.prefix, pg, peers: member.peers, etcd, ...plan.settings, logger: log,
    });
    const unsubscribe = this.wire(plan.database, member.name, manager);
    const health = member.healthPort === undefined ? undefined
      : new HealthServer({ member: member.name, host: member.host, port: member.healthPort, snapshot: () => manager.snapshot(), logger: log });
    try {
      await health?.start();
      await manager.start();
    } catch (err) {
      unsubscribe();
      await health?.stop();
      await lock.release();
      throw err;
    }
    const members = this.running.get(plan.database) ?? new Map<string, RunningMember>();
    members.set(member.name, { plan, member, settings: plan.settings, pg, manager, health, lock, unsubscribe });
    this.running.set(plan.database, members);
    log.info({ port: member.port, dataDir: member.dataDir, healthPort: member.healthPort }, 'PostgreSQL member started under the HA loop');
  }

  /** The manager first (a leader stops PostgreSQL and gives the key up), then PostgreSQL of a replica, then the health endpoint. */
  private async stopMember(database: string, r: RunningMember, deadline: AbortSignal, reason: string): Promise<void> {
    try {
      await r.manager.stop(deadline);
      await r.pg.stop();
    } catch (err) {
      this.log.error({ database, member: r.member.name, err: errorMessage(err) }, 'member did not stop cleanly');
    } finally {
      await r.health?.stop();
      await r.lock.release();
      r.unsubscribe();
      this.running.get(database)?.delete(r.member.name);
    }
    this.log.info({ database, member: r.member.name, reason }, 'PostgreSQL member stopped');
  }

  /** Manager events → the daemon's bus, the event store and the failover metrics. */
  private wire(database: string, member: string, manager: ManagedMember): () => void {
    const subject = `${database}/${member}`;
    const record = (kind: string, data: unknown): void => {
      this.o.events?.appendEvent({ subsystem: 'postgres-ha', kind, subject, data })
        .catch((err: unknown) => this.log.warn({ err: errorMessage(err), kind, subject }, 'could not store the event'));
    };
    const offs: Array<() => void> = [];
    const listen = <K extends keyof MemberManagerEvents>(event: K, fn: (...args: MemberManagerEvents[K]) => void): void => {
      manager.on(event, fn);
      offs.push(() => manager.off(event, fn));
    };
    listen('promoted', () => {
      this.o.bus.emit('database.promoted', { database, member, at: Date.now() });
      record('member.promoted', {});
    });
    listen('fenced', ({ reason }) => {
      this.o.bus.emit('database.fenced', { database, member, reason, at: Date.now() });
      record('member.fenced', { reason });
    });
    listen('rejoined', ({ method, durationMs, detail }) => {
      this.o.bus.emit('database.rejoined', { database, member, method, durationMs, detail, at: Date.now() });
      record('member.rejoined', { method, durationMs, detail });
    });
    listen('drift', ({ setting, live, pending, intended }) => {
      this.metrics.recordDrift(database, member, setting);
      record('member.setting_drift', { setting, live, pending, intended });
    });
    listen('withoutStandby', ({ ms, transactions }) => this.metrics.recordWithoutStandby(database, member, ms, transactions));
    listen('history', (entry) => {
      this.metrics.recordPromotion(database, entry);
      this.o.bus.emit('database.failover', { database, member, entry, at: Date.now() });
      record(entry.kind, entry);
    });
    return () => offs.forEach((off) => off());
  }

  private async apply(config: BulwarkConfig): Promise<void> {
    const next = planMap(config, this.host);
    const nextEtcd = etcdSettings(config.coordination);
    if (!sameEtcd(this.etcdConfig, nextEtcd)) {
      this.log.warn({}, 'coordination.etcd changed: restarting every member manager against the new etcd settings');
      await this.stopAll(AbortSignal.timeout(STOP_ON_RELOAD_MS));
      this.plans = next;
      this.etcdConfig = nextEtcd;
      await this.startAll().catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'could not start the PostgreSQL members after the reload'));
      return;
    }
    this.plans = next;
    if (!this.etcd && this.etcdConfig && next.size > 0) this.etcd = this.newEtcd(this.etcdConfig);
    for (const database of new Set([...this.running.keys(), ...next.keys()])) {
      await this.applyDatabase(database, next.get(database)).catch((err: unknown) =>
        this.log.error({ database, err: errorMessage(err) }, 'could not apply the new configuration to this database'));
    }
  }

  private async applyDatabase(database: string, plan: DatabaseHaPlan | undefined): Promise<void> {
    const running = this.running.get(database) ?? new Map<string, RunningMember>();
    const wanted = plan && this.shouldRun(plan) ? plan.local : [];
    const deadline = AbortSignal.timeout(STOP_ON_RELOAD_MS);
    for (const r of [...running.values()]) {
      if (!wanted.some((m) => m.name === r.member.name)) await this.stopMember(database, r, deadline, 'removed from the configuration');
    }
    if (!plan || wanted.length === 0) return;
    const added = wanted.filter((m) => !running.has(m.name));
    if (added.length > 0) {
      const locks = await this.lockAll(added.map((member) => ({ plan, member })));
      try {
        const runtime = await this.runtime(plan);
        for (const member of added) await this.startMember(plan, member, runtime, takeLock(locks, member.dataDir));
      } finally {
        await Promise.all([...locks.values()].map((lock) => lock.release()));
      }
    }
    for (const member of wanted) {
      const r = running.get(member.name);
      if (r && !added.includes(member)) await this.update(plan, member, r);
    }
  }

  private async update(plan: DatabaseHaPlan, member: LocalMemberPlan, r: RunningMember): Promise<void> {
    const log = this.log.child({ database: plan.database, member: member.name });
    const changes = reconfiguration(r.settings, plan.settings);
    if (Object.keys(changes).length > 0) {
      try {
        r.manager.reconfigure(changes);
        r.settings = { ...r.settings, ...changes };
        log.info({ changed: Object.keys(changes) }, 'HA settings applied to the running member');
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'HA settings refused; the member keeps its previous settings');
      }
    }
    if (peerList(r.member.peers) !== peerList(member.peers)) {
      r.manager.reconfigure({ peers: member.peers });
      r.member = { ...r.member, peers: member.peers };
      log.info({ peers: member.peers.map((p) => p.name) }, 'member list applied to the running member');
    }
    // The member's own endpoint, data directory and retry_timeout cannot change under a running loop;
    // restarting a leader's manager would stop its PostgreSQL (a failover), so these wait for a restart.
    const restartOnly = restartOnlyChanges(r.plan, plan, member.name).filter((name) => name !== 'members');
    if (restartOnly.length > 0) {
      log.warn({ changed: restartOnly }, 'these changes take effect when bulwark restarts; the running member keeps its previous values');
    }
    if (member.healthPort !== r.member.healthPort) {
      await r.health?.stop();
      r.health = member.healthPort === undefined ? undefined
        : new HealthServer({ member: member.name, host: r.member.host, port: member.healthPort, snapshot: () => r.manager.snapshot(), logger: log });
      await r.health?.start();
      r.member = { ...r.member, healthPort: member.healthPort };
    }
  }
}

/** Moves a lock out of the map: from then on its member owns it (the map's leftovers are released). */
function takeLock(locks: Map<string, Lock>, dataDir: string): Lock {
  const lock = locks.get(dataDir);
  if (!lock) throw new Error(`no lock taken for ${dataDir}`);
  locks.delete(dataDir);
  return lock;
}

type Lock = Pick<DataDirLock, 'release'>;

function peerList(peers: readonly { name: string; endpoint: { host: string; port: number } }[]): string {
  return peers.map((p) => `${p.name}@${p.endpoint.host}:${p.endpoint.port}`).join(',');
}

function planMap(config: BulwarkConfig, host: HostIdentity): Map<string, DatabaseHaPlan> {
  return new Map(haPlans(config, host).map((p) => [p.database, p]));
}

export type { MemberSnapshot };
