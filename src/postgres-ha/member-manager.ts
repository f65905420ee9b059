/**
 * The HA loop of one PostgreSQL member: every `loopWaitMs` it observes
 * PostgreSQL and etcd, runs `decide`, applies the action and publishes its own
 * state. The primary holds the leader key through a LeaderLease; the lease's
 * `deadline` and `lost` events fence PostgreSQL at once, outside the loop.
 *
 * etcd layout under /bulwark/db/<database>/:
 *   leader            member name, bound to the leader's lease
 *   members/<member>  JSON MemberRecord, bound to the member's own lease (TTL = ttlSeconds)
 *   sync              JSON SyncRecord: the standbys PostgreSQL may take acknowledgements from
 *   optime            the primary's last published WAL position (asynchronous lag rule)
 */
import { EventEmitter } from 'node:events';
import type { EtcdClient, GetResult, LeaseId } from '../coordination/etcd-client.js';
import { LeaderLease } from '../coordination/leader-lease.js';
import { readHolder } from '../coordination/leader-key.js';
import { errorMessage, isBulwarkError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Subsystem } from '../daemon/lifecycle.js';
import { decide, formatLsn, parseLsn, syncSteps, type Action, type Lsn, type Observation, type PeerView, type PgRole } from './decide.js';
import type { PgEndpoint } from './pg-query.js';
import { readPgStatus, type PostgresMember, type PgStatus } from './postgres-process.js';

export interface Peer {
  name: string;
  endpoint: PgEndpoint;
}

export interface MemberManagerOptions {
  database: string;
  pg: PostgresMember;
  /** Every other member of the cluster. */
  peers: readonly Peer[];
  etcd: EtcdClient;
  synchronousMode?: boolean;
  /** Bytes; 1 MiB by default. */
  maximumLagOnFailover?: bigint;
  /** Leader and member key TTL; 10 s by default. */
  ttlSeconds?: number;
  /** HA loop and lease renewal interval; 2 s by default. */
  loopWaitMs?: number;
  /** Bound on each etcd or PostgreSQL call inside the loop; 1 s by default. */
  requestTimeoutMs?: number;
  logger?: Logger;
}

export interface MemberRecord {
  role: PgRole;
  timeline: number;
  lsn: string;
  fenced: boolean;
  host: string;
  port: number;
}

export interface SyncRecord {
  leader: string;
  members: string[];
}

export interface MemberManagerEvents {
  action: [info: { action: Action; at: number }];
  acquired: [info: { at: number }];
  promoted: [info: { at: number }];
  fenced: [info: { reason: string; at: number }];
  syncChanged: [info: { members: string[] }];
}

export type ManagerState =
  | { kind: 'idle' }
  | { kind: 'running'; since: number }
  | { kind: 'stopping' }
  | { kind: 'stopped' };

export class MemberManager extends EventEmitter<MemberManagerEvents> implements Subsystem {
  readonly name: string;
  readonly lease: LeaderLease;
  private readonly pg: PostgresMember;
  private readonly etcd: EtcdClient;
  private readonly prefix: string;
  private readonly loopWaitMs: number;
  private readonly ttlSeconds: number;
  private readonly requestTimeoutMs: number;
  private readonly settings: Observation['settings'];
  private readonly log: Logger;
  private current: ManagerState = { kind: 'idle' };
  private fenced = false;
  private memberLease: LeaseId | undefined;
  private appliedSync: string[] | undefined;
  private slotsReady = false;
  private lastAction = '';
  /** modRevision of the sync key as last read or written: our compare-and-swap guard. */
  private syncRevision = 0;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly o: MemberManagerOptions) {
    super();
    this.pg = o.pg;
    this.etcd = o.etcd;
    this.name = `postgres-ha:${o.pg.name}`;
    this.prefix = `/bulwark/db/${o.database}`;
    this.loopWaitMs = o.loopWaitMs ?? 2000;
    this.ttlSeconds = o.ttlSeconds ?? 10;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 1000;
    this.settings = { synchronousMode: o.synchronousMode ?? true, maximumLagOnFailover: o.maximumLagOnFailover ?? 1024n * 1024n };
    this.log = (o.logger ?? silentLogger()).child({ component: 'postgres-ha', member: o.pg.name });
    this.lease = new LeaderLease({ store: o.etcd, key: `${this.prefix}/leader`, value: o.pg.name, ttlSeconds: this.ttlSeconds, loopWaitMs: this.loopWaitMs, logger: this.log });
    // Fence on the event itself, not at the next loop iteration: the margin is all we have.
    this.lease.on('deadline', () => this.fenceNow('leader lease validity passed without renewal'));
    this.lease.on('lost', ({ detail }) => this.fenceNow(`leader key lost: ${detail}`));
  }

  get state(): ManagerState {
    return this.current;
  }

  get isFenced(): boolean {
    return this.fenced;
  }

  async start(): Promise<void> {
    if (this.current.kind !== 'idle') return;
    this.current = { kind: 'running', since: performance.now() };
    this.log.info({ state: 'running' }, 'member manager started');
    this.loop = this.run(this.abort.signal);
  }

  /**
   * Ends the loop. A leader stops PostgreSQL (fast) before releasing the key:
   * a primary without a manager would be a primary nobody can fence.
   */
  async stop(deadline?: AbortSignal): Promise<void> {
    if (this.current.kind === 'stopping' || this.current.kind === 'stopped') return;
    this.current = { kind: 'stopping' };
    this.abort.abort();
    await this.loop;
    if (this.lease.isLeader) await this.pg.stop();
    await this.lease.stop();
    if (this.memberLease) await this.etcd.revokeLease(this.memberLease, { timeoutMs: this.requestTimeoutMs, signal: deadline }).catch(() => undefined);
    this.current = { kind: 'stopped' };
    this.log.info({ state: 'stopped' }, 'member manager stopped');
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = performance.now();
      try {
        await this.iterate(signal);
      } catch (err) {
        if (!signal.aborted) this.log.warn({ err: errorMessage(err) }, 'HA loop iteration failed');
      }
      await pause(Math.max(0, this.loopWaitMs - (performance.now() - started)), signal);
    }
  }

  private fenceNow(reason: string): void {
    if (this.fenced && !this.pg.running) return;
    this.fenced = true;
    const at = performance.now();
    this.log.error({ reason }, 'fencing PostgreSQL');
    this.emit('fenced', { reason, at });
    this.pg.fence().catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'fencing failed'));
  }

  private async iterate(signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const status = await this.pg.status(call).catch((): PgStatus => ({ role: 'unknown', timeline: 0, lsn: 0n, upstream: undefined }));
    const observation = await this.observe(status, signal);
    const action = decide(observation);
    const line = `${action.kind}:${action.kind === 'follow' ? action.leader : ''}:${action.reason}`;
    if (line !== this.lastAction) this.log.info({ action: action.kind, reason: action.reason }, 'HA decision');
    this.lastAction = line;
    this.emit('action', { action, at: performance.now() });
    await this.apply(action, status, signal);
    if (this.lease.isLeader && !this.fenced) await this.lead(observation, signal);
    await this.publish(signal);
  }

  private async observe(status: PgStatus, signal: AbortSignal): Promise<Observation> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const base = {
      me: this.pg.name, role: status.role, fenced: this.fenced, holdsLease: this.lease.isLeader,
      following: this.o.peers.find((p) => p.endpoint.port === status.upstream?.port && p.endpoint.host === status.upstream.host)?.name,
      timeline: status.timeline, lsn: status.lsn, settings: this.settings,
    };
    let reads: [Awaited<ReturnType<typeof readHolder>>, GetResult, GetResult, GetResult[]];
    try {
      reads = await Promise.all([
        readHolder(this.etcd, `${this.prefix}/leader`, call),
        this.etcd.get(`${this.prefix}/sync`, call),
        this.etcd.get(`${this.prefix}/optime`, call),
        Promise.all(this.o.peers.map((p) => this.etcd.get(`${this.prefix}/members/${p.name}`, call))),
      ]);
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'etcd unreachable');
      return { ...base, etcdReachable: false, leader: undefined, peers: [], syncSet: undefined, leaderOptime: undefined };
    }
    const [holder, sync, optime, memberKeys] = reads;
    this.syncRevision = sync.kv?.modRevision ?? 0;
    const syncRecord = sync.kv ? (JSON.parse(sync.kv.value) as SyncRecord) : undefined;
    // Positions from the keys are up to a loop old; a candidate asks the peers' PostgreSQL directly.
    const live = holder === undefined && status.role === 'replica';
    const peers = await Promise.all(this.o.peers.map((p, i) => this.peerView(p, memberKeys[i]?.kv?.value, live, signal)));
    return {
      ...base, etcdReachable: true, leader: holder?.value, peers, syncSet: syncRecord?.members,
      leaderOptime: optime.kv ? parseLsn(optime.kv.value) : undefined,
    };
  }

  private async peerView(peer: Peer, keyValue: string | undefined, live: boolean, signal: AbortSignal): Promise<PeerView> {
    const record = keyValue === undefined ? undefined : (JSON.parse(keyValue) as MemberRecord);
    const missing: PeerView = { name: peer.name, visible: false, role: record?.role ?? 'stopped', timeline: record?.timeline ?? 0, lsn: record ? parseLsn(record.lsn) : 0n };
    if (!record) return missing;
    if (!live) return { ...missing, visible: !record.fenced };
    try {
      const s = await readPgStatus(peer.endpoint, { signal, timeoutMs: this.requestTimeoutMs });
      return { name: peer.name, visible: !record.fenced, role: s.role, timeline: s.timeline, lsn: s.lsn };
    } catch {
      return missing;
    }
  }

  private async apply(action: Action, status: PgStatus, signal: AbortSignal): Promise<void> {
    switch (action.kind) {
      case 'stay':
      case 'wait':
        return;
      case 'fence':
        this.fenceNow(action.reason);
        await this.pg.fence();
        if (action.resign) await this.lease.resign({ signal, timeoutMs: this.requestTimeoutMs }).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'resign failed; the key expires with its lease'));
        return;
      case 'acquire-leadership': {
        if (!(await this.lease.tryAcquire({ signal, timeoutMs: this.requestTimeoutMs }))) return;
        this.emit('acquired', { at: performance.now() });
        this.slotsReady = false;
        this.appliedSync = undefined;
        // Patroni promotes in the same iteration that won the key: every loop saved is downtime.
        if (status.role === 'replica') await this.promote(signal);
        return;
      }
      case 'promote':
        await this.promote(signal);
        return;
      case 'follow': {
        const leader = this.o.peers.find((p) => p.name === action.leader);
        if (!leader) return;
        if (status.role === 'replica') {
          await this.pg.follow(leader.endpoint, { signal, timeoutMs: this.requestTimeoutMs });
        } else if (status.role === 'stopped') {
          await this.pg.writeStandbyConfig(leader.endpoint);
          await this.pg.start({ signal });
        }
        this.log.info({ leader: action.leader }, 'following the leader');
        return;
      }
    }
  }

  private async promote(signal: AbortSignal): Promise<void> {
    await this.pg.promote({ signal });
    this.appliedSync = [];
    this.emit('promoted', { at: performance.now() });
    this.log.info({}, 'promoted to primary');
  }

  /** The leader's chores: slots for the others, the published WAL position, the synchronous set. */
  private async lead(o: Observation, signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const status = await this.pg.status(call);
    if (status.role !== 'primary') return;
    if (!this.slotsReady) {
      await this.pg.ensureSlots(this.o.peers.map((p) => p.name), call);
      this.slotsReady = true;
    }
    await this.etcd.put(`${this.prefix}/optime`, formatLsn(status.lsn), call);
    if (!this.settings.synchronousMode) return;
    const peers = this.o.peers.map((p) => p.name);
    const streaming = (await this.pg.streamingStandbys(call)).filter((n) => peers.includes(n));
    const applied = (this.appliedSync ??= await this.pg.synchronousStandbys(call));
    const recorded = (o.syncSet ?? []).filter((n) => n !== this.pg.name);
    for (const step of syncSteps(recorded, applied, streaming)) {
      if (!this.lease.isLeader) return;
      if (step.kind === 'apply') {
        await this.pg.setSynchronousStandbys(step.members, call);
        this.appliedSync = step.members;
      } else if (!(await this.recordSync(step.members, call))) {
        return;
      }
    }
  }

  /** Compare-and-swap on the sync key as read this iteration: a concurrent writer makes us skip a turn. */
  private async recordSync(members: string[], call: { signal: AbortSignal; timeoutMs: number }): Promise<boolean> {
    const value = JSON.stringify({ leader: this.pg.name, members } satisfies SyncRecord);
    const key = `${this.prefix}/sync`;
    const result = this.syncRevision === 0
      ? await this.etcd.createIfAbsent(key, value, undefined, call)
      : await this.etcd.compareAndSwap(key, this.syncRevision, value, undefined, call);
    if (!result.succeeded) return false;
    this.syncRevision = result.revision;
    this.log.info({ members }, 'recorded the synchronous set');
    this.emit('syncChanged', { members });
    return true;
  }

  private async publish(signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const status = await this.pg.status(call).catch((): PgStatus => ({ role: 'unknown', timeline: 0, lsn: 0n, upstream: undefined }));
    const record: MemberRecord = {
      role: status.role, timeline: status.timeline, lsn: formatLsn(status.lsn), fenced: this.fenced,
      host: this.pg.endpoint.host, port: this.pg.endpoint.port,
    };
    if (this.memberLease !== undefined) {
      try {
        if ((await this.etcd.keepAliveOnce(this.memberLease, call)) <= 0) this.memberLease = undefined;
      } catch (err) {
        if (isBulwarkError(err) && err.code === 'LEASE_LOST') this.memberLease = undefined;
        else throw err;
      }
    }
    this.memberLease ??= (await this.etcd.grantLease(this.ttlSeconds, call)).id;
    await this.etcd.put(`${this.prefix}/members/${this.pg.name}`, JSON.stringify(record), { ...call, lease: this.memberLease });
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export type { Lsn };
