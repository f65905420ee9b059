/**
 * The HA loop of one PostgreSQL member: every `loopWaitMs` it observes
 * PostgreSQL and etcd, runs `decide`, applies the action and publishes its own
 * state. The primary holds the leader key through a LeaderLease; the lease's
 * `deadline` and `lost` events fence PostgreSQL at once, outside the loop.
 * The etcd keys are described in keys.ts.
 */
import { EventEmitter } from 'node:events';
import type { EtcdClient, GetResult, LeaseId } from '../coordination/etcd-client.js';
import { LeaderLease } from '../coordination/leader-lease.js';
import { readHolder } from '../coordination/leader-key.js';
import { BulwarkError, errorMessage, isBulwarkError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Subsystem } from '../daemon/lifecycle.js';
import { decide, formatLsn, parseLsn, syncSteps, type Action, type FailoverIntent, type Lsn, type Observation, type PeerView, type PgRole, type SwitchoverIntent } from './decide.js';
import {
  databaseKeys, HISTORY_LIMIT, type DatabaseKeys, type FailoverRequest, type HistoryEntry, type MemberRecord, type SwitchoverRequest, type SyncRecord,
} from './keys.js';
import { queryRows, type PgEndpoint } from './pg-query.js';
import { parseSynchronousStandbyNames, readPgStatus, synchronousStandbyNames, type PostgresMember, type PgStatus } from './postgres-process.js';

export interface Peer {
  name: string;
  endpoint: PgEndpoint;
}

export interface MemberManagerOptions {
  database: string;
  /** etcd key prefix; `/bulwark` by default. */
  prefix?: string;
  pg: PostgresMember;
  /** Every other member of the cluster. */
  peers: readonly Peer[];
  etcd: EtcdClient;
  synchronousMode?: boolean;
  /** Synchronous mode only: with no standby left, block writes rather than go asynchronous. */
  synchronousModeStrict?: boolean;
  /** Non-strict synchronous mode: how long commits wait with no standby streaming before the primary goes asynchronous; 5 s by default. */
  synchronousDegradeAfterMs?: number;
  /** Rejoin a diverged member with pg_rewind (true by default); otherwise, and when rewind fails, with a fresh base backup. */
  usePgRewind?: boolean;
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

export type { MemberRecord, SyncRecord };

export interface MemberManagerEvents {
  action: [info: { action: Action; at: number }];
  acquired: [info: { at: number }];
  promoted: [info: { at: number }];
  fenced: [info: { reason: string; at: number }];
  syncChanged: [info: { members: string[] }];
  rejoined: [info: { method: 'pg_rewind' | 'basebackup' | 'start'; durationMs: number; detail: string }];
  /** A failover or switchover this member completed as the new primary. */
  history: [entry: HistoryEntry];
  /** A switchover this member (the old leader) handed over, or refused. */
  handover: [info: { to: string | undefined; ok: boolean; detail: string; pauseMs: number }];
  /** A setting the leader owns was found changed behind its back, and was restored. */
  drift: [info: { setting: string; live: string; pending: string | undefined; intended: string }];
  /** Synchronous mode: time the primary ran with no synchronous standby, and write transactions it acknowledged alone then. */
  withoutStandby: [info: { ms: number; transactions: number }];
}

/** What this member is and does now, for the API, health endpoints and metrics. */
export interface MemberSnapshot {
  name: string;
  role: PgRole;
  leader: boolean;
  fenced: boolean;
  /** The last decision's reason, or the long operation under way. */
  state: string;
  timeline: number;
  lsn: string;
  following: string | undefined;
  lagBytes: number | undefined;
}

export interface ReconfigurableSettings {
  /** Members added or removed: the leader makes slots for new ones and takes them into the synchronous set. */
  peers?: readonly Peer[];
  synchronousMode?: boolean;
  synchronousModeStrict?: boolean;
  synchronousDegradeAfterMs?: number;
  maximumLagOnFailover?: bigint;
  loopWaitMs?: number;
  /** Takes effect at the next lease grant. */
  ttlSeconds?: number;
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
  private readonly keys: DatabaseKeys;
  private loopWaitMs: number;
  private ttlSeconds: number;
  private readonly requestTimeoutMs: number;
  private settings: Observation['settings'];
  private strict: boolean;
  private degradeAfterMs: number;
  /** When the leader last saw no standby streaming (performance.now()); undefined while one streams. */
  private noStandbySince: number | undefined;
  /** Since when (and from which transaction id) the primary has run with an empty synchronous_standby_names. */
  private alone: { at: number; xid: bigint } | undefined;
  private readonly usePgRewind: boolean;
  private lastStatus: PgStatus = { role: 'stopped', timeline: 0, lsn: 0n, upstream: undefined };
  private lastFollowing: string | undefined;
  private lastLeaderOptime: Lsn | undefined;
  private busy: string | undefined;
  private lastReason = 'starting';
  /** When this member first saw no leader (performance.now()), for the measured failover duration. */
  private leaderGoneSince: number | undefined;
  private lastKnownLeader: string | undefined;
  /** Every other member; a configuration reload may change it. */
  private peers: readonly Peer[];
  /** The `leader` field of the sync record last read: who led before, when this process never saw it. */
  private syncLeader: string | undefined;
  /** The `members` of the sync record last read. */
  private lastSyncSet: string[] | undefined;
  private notStreamingSince: number | undefined;
  private mayHaveDiverged = false;
  private pendingSwitchover: PendingRequest<SwitchoverRequest> | undefined;
  private pendingFailover: PendingRequest<FailoverRequest> | undefined;
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
    this.keys = databaseKeys(o.database, o.prefix);
    this.peers = o.peers;
    this.loopWaitMs = o.loopWaitMs ?? 2000;
    this.ttlSeconds = o.ttlSeconds ?? 10;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 1000;
    this.settings = { synchronousMode: o.synchronousMode ?? true, maximumLagOnFailover: o.maximumLagOnFailover ?? 1024n * 1024n };
    this.strict = o.synchronousModeStrict ?? false;
    this.degradeAfterMs = o.synchronousDegradeAfterMs ?? 5000;
    this.usePgRewind = o.usePgRewind ?? true;
    this.log = (o.logger ?? silentLogger()).child({ component: 'postgres-ha', member: o.pg.name });
    this.lease = new LeaderLease({
      store: o.etcd, key: this.keys.leader, value: o.pg.name, ttlSeconds: this.ttlSeconds, loopWaitMs: this.loopWaitMs, logger: this.log,
      ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
    });
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

  snapshot(): MemberSnapshot {
    const s = this.lastStatus;
    const lag = s.role === 'replica' && this.lastLeaderOptime !== undefined && this.lastLeaderOptime > s.lsn ? Number(this.lastLeaderOptime - s.lsn) : s.role === 'replica' ? 0 : undefined;
    return {
      name: this.pg.name, role: this.pg.running ? s.role : 'stopped', leader: this.lease.isLeader, fenced: this.fenced,
      state: this.busy ?? this.lastReason, timeline: s.timeline, lsn: formatLsn(s.lsn),
      following: s.role === 'replica' ? this.lastFollowing : undefined, lagBytes: lag,
    };
  }

  /** Applies changed settings to the running loop (configuration reloads). */
  reconfigure(next: ReconfigurableSettings): void {
    const ttlSeconds = next.ttlSeconds ?? this.ttlSeconds;
    const loopWaitMs = next.loopWaitMs ?? this.loopWaitMs;
    if (ttlSeconds !== this.ttlSeconds || loopWaitMs !== this.loopWaitMs) {
      this.lease.retime(ttlSeconds, loopWaitMs); // throws, with nothing changed, when the timing is unsafe
      this.ttlSeconds = ttlSeconds;
      this.loopWaitMs = loopWaitMs;
    }
    this.settings = {
      synchronousMode: next.synchronousMode ?? this.settings.synchronousMode,
      maximumLagOnFailover: next.maximumLagOnFailover ?? this.settings.maximumLagOnFailover,
    };
    this.strict = next.synchronousModeStrict ?? this.strict;
    this.degradeAfterMs = next.synchronousDegradeAfterMs ?? this.degradeAfterMs;
    if (next.peers) {
      this.peers = next.peers;
      this.slotsReady = false;
    }
    this.appliedSync = undefined;
    this.log.info({ synchronousMode: this.settings.synchronousMode, strict: this.strict, degradeAfterMs: this.degradeAfterMs, loopWaitMs: this.loopWaitMs, ttlSeconds: this.ttlSeconds }, 'settings applied');
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
    // An iteration busy in a step that does not listen to the abort (a PostgreSQL start or restart) must not hold
    // the daemon's stop past its deadline: the service stops PostgreSQL right after, which ends that step too.
    if (!(await settlesBefore(this.loop ?? Promise.resolve(), deadline))) this.log.warn({}, 'the HA loop did not finish before the stop deadline; stopping PostgreSQL under it');
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
        if (!signal.aborted) this.log.warn({ err: errorMessage(err), ...postgresOutput(err) }, 'HA loop iteration failed');
      }
      // A pending switchover or manual failover is watched closely: every loop here is write downtime.
      const wait = this.pendingSwitchover || this.pendingFailover ? Math.min(100, this.loopWaitMs) : this.loopWaitMs;
      await pause(Math.max(0, wait - (performance.now() - started)), signal);
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
    this.lastStatus = status;
    const observation = await this.observe(status, signal);
    this.lastFollowing = observation.following;
    this.lastLeaderOptime = observation.leaderOptime;
    if (observation.leader !== undefined && observation.leader !== this.pg.name) this.lastKnownLeader = observation.leader;
    if (observation.etcdReachable) this.leaderGoneSince = observation.leader === undefined ? (this.leaderGoneSince ?? performance.now()) : undefined;
    if (await this.restartedStalledReplica(observation, signal)) return;
    const action = decide(observation);
    const line = `${action.kind}:${'leader' in action ? action.leader : ''}:${action.reason}`;
    if (line !== this.lastAction) this.log.info({ action: action.kind, reason: action.reason }, 'HA decision');
    this.lastAction = line;
    this.lastReason = action.reason;
    this.emit('action', { action, at: performance.now() });
    await this.apply(action, status, signal);
    if (this.lease.isLeader && !this.fenced) await this.lead(observation, signal);
    await this.publish(signal);
  }

  /**
   * A replica that follows the leader but has not streamed for a while, while that leader answers as
   * a primary on a later timeline or behind our position, cannot: its WAL went past the point where
   * the leader's timeline forked (an asynchronous standby ahead of the promoted one). Stopping it lets
   * the next loop rejoin it with pg_rewind. A leader that is dead or still promoting is no evidence of
   * divergence: the replica then stays a candidate.
   */
  private async restartedStalledReplica(o: Observation, signal: AbortSignal): Promise<boolean> {
    const following = o.role === 'replica' && o.leader !== undefined && o.following === o.leader;
    if (!following || this.lastStatus.streaming !== false) {
      this.notStreamingSince = undefined;
      return false;
    }
    const now = performance.now();
    this.notStreamingSince ??= now;
    if (now - this.notStreamingSince < Math.max(10_000, 5 * this.loopWaitMs)) return false;
    const leader = this.peers.find((p) => p.name === o.leader);
    const theirs = leader ? await readPgStatus(leader.endpoint, { signal, timeoutMs: this.requestTimeoutMs }).catch(() => undefined) : undefined;
    if (theirs?.role !== 'primary') return false;
    const diverged = theirs.timeline > o.timeline || (theirs.timeline === o.timeline && o.lsn > theirs.lsn);
    if (!diverged) return false;
    this.log.warn({ leader: o.leader, stalledMs: Math.round(now - this.notStreamingSince), ours: `${o.timeline}/${formatLsn(o.lsn)}`, theirs: `${theirs.timeline}/${formatLsn(theirs.lsn)}` },
      'not streaming from the leader and diverged from its timeline; restarting to rejoin through pg_rewind');
    this.notStreamingSince = undefined;
    await this.pg.stop();
    return true;
  }

  private async observe(status: PgStatus, signal: AbortSignal): Promise<Observation> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const base = {
      me: this.pg.name, role: status.role, fenced: this.fenced, holdsLease: this.lease.isLeader,
      vacantMs: this.leaderGoneSince === undefined ? 0 : performance.now() - this.leaderGoneSince,
      following: this.peers.find((p) => p.endpoint.port === status.upstream?.port && p.endpoint.host === status.upstream.host)?.name,
      timeline: status.timeline, lsn: status.lsn, settings: { ...this.settings, restartInPlaceAfterMs: this.ttlSeconds * 1000 },
    };
    let reads: [Awaited<ReturnType<typeof readHolder>>, GetResult, GetResult, GetResult[], GetResult, GetResult];
    try {
      reads = await Promise.all([
        readHolder(this.etcd, this.keys.leader, call),
        this.etcd.get(this.keys.sync, call),
        this.etcd.get(this.keys.optime, call),
        Promise.all(this.peers.map((p) => this.etcd.get(this.keys.member(p.name), call))),
        this.etcd.get(this.keys.switchover, call),
        this.etcd.get(this.keys.failover, call),
      ]);
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'etcd unreachable');
      return { ...base, etcdReachable: false, leader: undefined, peers: [], syncSet: undefined, leaderOptime: undefined };
    }
    const [holder, sync, optime, memberKeys, switchoverKey, failoverKey] = reads;
    this.pendingSwitchover = parseRequest<SwitchoverRequest>(switchoverKey);
    this.pendingFailover = parseRequest<FailoverRequest>(failoverKey);
    this.syncRevision = sync.kv?.modRevision ?? 0;
    const syncRecord = sync.kv ? (JSON.parse(sync.kv.value) as SyncRecord) : undefined;
    this.syncLeader = syncRecord?.leader;
    this.lastSyncSet = syncRecord?.members;
    // Positions from the keys are up to a loop old; a candidate asks the peers' PostgreSQL directly.
    const live = holder === undefined && status.role === 'replica';
    const peers = await Promise.all(this.peers.map((p, i) => this.peerView(p, memberKeys[i]?.kv?.value, live, signal)));
    const switchover: SwitchoverIntent | undefined = this.pendingSwitchover && { from: this.pendingSwitchover.from, to: this.pendingSwitchover.to };
    const failover: FailoverIntent | undefined = this.pendingFailover && { to: this.pendingFailover.to, allowDataLoss: this.pendingFailover.allowDataLoss };
    return {
      ...base, etcdReachable: true, leader: holder?.value, peers, syncSet: syncRecord?.members, syncLeader: syncRecord?.leader,
      leaderOptime: optime.kv ? parseLsn(optime.kv.value) : undefined, switchover, failover,
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
        else if (status.role === 'primary') await this.pg.armStandbySignal();
        return;
      }
      case 'promote':
        await this.promote(signal);
        return;
      case 'follow': {
        const leader = this.peers.find((p) => p.name === action.leader);
        if (!leader || status.role !== 'replica') return;
        if (this.mayHaveDiverged) {
          // A former primary restarted read-only: its WAL may go past the leader's fork. Stop cleanly so
          // that the next loop rejoins it through pg_rewind (no crash recovery needed after a clean stop).
          this.log.info({ leader: action.leader }, 'a former primary meets a new leader: stopping to rewind before following');
          await this.pg.stop();
          return;
        }
        await this.pg.follow(leader.endpoint, { signal, timeoutMs: this.requestTimeoutMs });
        this.log.info({ leader: action.leader }, 'following the leader');
        return;
      }
      case 'rejoin':
        await this.rejoin(action.leader, signal);
        return;
      case 'hand-over':
        await this.handOver(action.to, signal);
        return;
    }
  }

  /**
   * Starts a stopped PostgreSQL read-only. With a leader to follow, the data directory is first made
   * a valid replica of it: pg_rewind (which says "no rewind required" when nothing diverged), and a
   * fresh base backup when there is no data directory, rewind is off, or rewind fails.
   */
  private async rejoin(leaderName: string | undefined, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    const leader = leaderName === undefined ? undefined : this.peers.find((p) => p.name === leaderName);
    if (leaderName !== undefined && !leader) return;
    let method: 'pg_rewind' | 'basebackup' | 'start' = 'start';
    let detail = 'started read-only';
    try {
      if (leader) {
        // Rewinding against a leader that is not (yet) a primary would see "no rewind required".
        const theirs = await readPgStatus(leader.endpoint, { signal, timeoutMs: this.requestTimeoutMs }).catch(() => undefined);
        if (theirs?.role !== 'primary') {
          this.log.debug({ leader: leaderName }, 'the leader does not answer as a primary yet; rejoining later');
          return;
        }
        ({ method, detail } = await this.makeReplicaOf(leader, signal));
      } else {
        await this.pg.writeStandbyConfig(undefined);
      }
      this.busy = 'starting read-only';
      await this.pg.start({ signal });
    } finally {
      this.busy = undefined;
    }
    const wasFenced = this.fenced;
    this.fenced = false;
    // Started without a leader after being fenced (restart in place): until rewound against a leader or
    // promoted, its WAL may diverge from whoever leads next.
    this.mayHaveDiverged = leader === undefined && wasFenced;
    const durationMs = Math.round(performance.now() - started);
    this.log.info({ leader: leaderName, method, detail, durationMs, wasFenced }, leader ? 'rejoined as a replica' : 'started read-only');
    this.emit('rejoined', { method, durationMs, detail });
  }

  /**
   * A standby that crashed ("in archive recovery") is started as it is: its WAL holds only what it
   * received, and crash recovery outside standby mode (what pg_rewind would run first) would write
   * checkpoints of its own past that point. If it turns out to be ahead of the leader's fork, it does
   * not stream, and the stall rule stops it cleanly; a clean stop is then rewound without crash recovery.
   */
  private async makeReplicaOf(leader: Peer, signal: AbortSignal): Promise<{ method: 'pg_rewind' | 'basebackup' | 'start'; detail: string }> {
    const interrupted = await this.pg.recoverInterruptedRebuild();
    if (this.pg.hasDataDirectory() && !interrupted) {
      const state = await this.pg.controlState().catch(() => 'unknown');
      if (state === 'in archive recovery') {
        await this.pg.writeStandbyConfig(leader.endpoint);
        return { method: 'start', detail: 'crashed standby: started in standby mode without rewind' };
      }
      if (this.usePgRewind) {
        this.busy = `rejoining ${leader.name} (pg_rewind)`;
        try {
          return { method: 'pg_rewind', detail: await this.pg.rewind(leader.endpoint, signal) };
        } catch (err) {
          this.log.warn({ err: errorMessage(err), state }, 'pg_rewind failed; taking a fresh base backup instead');
        }
      }
    }
    this.busy = `rejoining ${leader.name} (base backup)`;
    await this.pg.rebuild(leader.endpoint, signal);
    return { method: 'basebackup', detail: 'fresh base backup' };
  }

  /**
   * Planned switchover, as the leader: a fast shutdown (the WAL senders ship everything up to the
   * shutdown checkpoint), wait until the target has received past that checkpoint, give the key up,
   * and start again read-only as the target's replica. The target, which sees the request name it,
   * takes the key and promotes. When the target does not catch up in time, this member starts again
   * and, still holding the lease, promotes itself back at the next loop.
   */
  private async handOver(to: string | undefined, signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const streaming = await this.pg.streamingStandbys(call);
    const eligible = this.peers.filter((p) => streaming.includes(p.name) && (to === undefined || p.name === to));
    const target = to === undefined ? await this.bestCandidate(eligible, call) : eligible[0];
    if (!target) {
      const detail = to ? `${to} is not a streaming standby of ${this.pg.name}` : 'no streaming standby to hand over to';
      this.log.error({ to }, `switchover refused: ${detail}`);
      await this.clearRequest('switchover', this.pendingSwitchover?.revision);
      this.emit('handover', { to, ok: false, detail, pauseMs: 0 });
      return;
    }
    // Chosen first, then named in the request: the standbys apply the request's rule, so the one we wait for is the one that takes over.
    if (to === undefined && !(await this.nameSwitchoverTarget(target.name, call))) return;
    this.busy = `handing over to ${target.name}`;
    const started = performance.now();
    try {
      await this.pg.stop();
      const checkpoint = await this.pg.checkpointLsn();
      const caughtUp = await this.waitReceived(target, checkpoint, 5000, signal);
      if (!caughtUp) {
        this.log.error({ to: target.name, checkpoint: formatLsn(checkpoint) }, 'switchover aborted: the target did not receive the last WAL in 5 s; staying primary');
        await this.pg.start({ signal });
        await this.clearRequest('switchover', this.pendingSwitchover?.revision);
        this.emit('handover', { to: target.name, ok: false, detail: 'target did not catch up', pauseMs: performance.now() - started });
        return;
      }
      await this.pg.writeStandbyConfig(target.endpoint);
      await this.lease.resign(call);
      this.log.info({ to: target.name, checkpoint: formatLsn(checkpoint) }, 'handed the leader key over');
      await this.pg.start({ signal });
      this.emit('handover', { to: target.name, ok: true, detail: `handed over at ${formatLsn(checkpoint)}`, pauseMs: performance.now() - started });
    } finally {
      this.busy = undefined;
    }
  }

  /**
   * The switchover target when none was asked for: by the candidates' own rule (in synchronous mode a
   * member of the recorded set; then the higher timeline, the further WAL, the lower name).
   */
  private async bestCandidate(peers: readonly Peer[], call: { signal: AbortSignal; timeoutMs: number }): Promise<Peer | undefined> {
    const inSet = this.settings.synchronousMode ? peers.filter((p) => this.recordedSync.includes(p.name)) : peers;
    let best: { peer: Peer; timeline: number; lsn: Lsn } | undefined;
    for (const peer of inSet) {
      const s = await readPgStatus(peer.endpoint, call).catch(() => undefined);
      if (!s) continue;
      const beats = !best || s.timeline > best.timeline || (s.timeline === best.timeline && (s.lsn > best.lsn || (s.lsn === best.lsn && peer.name < best.peer.name)));
      if (beats) best = { peer, timeline: s.timeline, lsn: s.lsn };
    }
    return best?.peer;
  }

  /** Writes the chosen target into the pending switchover request (same lease); false when the request changed or is gone. */
  private async nameSwitchoverTarget(target: string, call: { signal: AbortSignal; timeoutMs: number }): Promise<boolean> {
    const pending = this.pendingSwitchover;
    if (!pending) return false;
    const { revision, lease, ...request } = pending;
    const result = await this.etcd.compareAndSwap(this.keys.switchover, revision, JSON.stringify({ ...request, to: target } satisfies SwitchoverRequest), lease, call);
    if (!result.succeeded) {
      this.log.warn({ to: target }, 'the switchover request changed while choosing its target; looking again at the next loop');
      return false;
    }
    this.pendingSwitchover = { ...pending, to: target, revision: result.revision };
    this.log.info({ to: target }, 'switchover target chosen');
    return true;
  }

  /** Whether `peer` received WAL past `lsn` within `timeoutMs`. */
  private async waitReceived(peer: Peer, lsn: Lsn, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (performance.now() < until && !signal.aborted) {
      const rows = await queryRows<{ r: string | null }>(peer.endpoint, 'SELECT pg_last_wal_receive_lsn()::text AS r', [], { signal, timeoutMs: this.requestTimeoutMs }).catch(() => []);
      const received = rows[0]?.r;
      if (received && parseLsn(received) > lsn) return true;
      await pause(20, signal);
    }
    return false;
  }

  /** Deletes a switchover or failover request, if it is still the one we read. */
  private async clearRequest(kind: 'switchover' | 'failover', revision: number | undefined): Promise<void> {
    if (revision === undefined) return;
    await this.etcd.deleteIfRevision(this.keys[kind], revision, { timeoutMs: this.requestTimeoutMs })
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err), kind }, 'could not clear the request; it expires with its lease'));
  }

  private async promote(signal: AbortSignal): Promise<void> {
    const switchover = this.pendingSwitchover;
    const failover = this.pendingFailover;
    // Synchronous mode: the new primary's first commits already wait for one of the other members, so
    // none is acknowledged by it alone while the standbys re-point at it (non-strict: it goes
    // asynchronous only after degrade_after with none streaming). Recorded before promotion, with us
    // as the last primary: nobody may take over without seeing all of them, and we may stand again after a crash.
    const initial = this.settings.synchronousMode ? this.peers.map((p) => p.name) : [];
    if (this.settings.synchronousMode && !(await this.recordSync(initial, { signal, timeoutMs: this.requestTimeoutMs }))) {
      throw new BulwarkError('BACKEND_UNAVAILABLE', 'could not record the synchronous set before promotion (a concurrent change); promoting at the next loop');
    }
    await this.pg.promote({ signal, standbys: initial });
    this.mayHaveDiverged = false;
    const at = performance.now();
    this.appliedSync = initial;
    this.noStandbySince = at;
    this.alone = undefined;
    await this.pg.armStandbySignal();
    this.emit('promoted', { at });
    const status = await this.pg.status({ signal, timeoutMs: this.requestTimeoutMs }).catch(() => undefined);
    const kind: HistoryEntry['kind'] = failover?.to === this.pg.name ? 'manual-failover' : switchover ? 'switchover' : 'failover';
    const from = switchover?.from ?? this.lastKnownLeader ?? this.syncLeader;
    const entry: HistoryEntry = {
      kind, from, to: this.pg.name, timeline: status?.timeline ?? 0,
      at: new Date().toISOString(), durationMs: Math.round(at - (this.leaderGoneSince ?? at)),
    };
    // The first election of a cluster (nobody led before, or we did) is not a failover: no incident, no history.
    const firstElection = kind === 'failover' && (from === undefined || from === this.pg.name);
    if (firstElection) this.log.info({ timeline: entry.timeline, synchronousStandbys: initial }, 'elected the first primary of the cluster');
    else this.log.info({ kind, from: entry.from, timeline: entry.timeline, durationMs: entry.durationMs, synchronousStandbys: initial }, 'promoted to primary');
    if (switchover) await this.clearRequest('switchover', switchover.revision);
    if (failover?.to === this.pg.name) await this.clearRequest('failover', failover.revision);
    if (firstElection) return;
    this.emit('history', entry);
    await this.appendHistory(entry).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not record the failover in etcd'));
  }

  private async appendHistory(entry: HistoryEntry): Promise<void> {
    const call = { timeoutMs: this.requestTimeoutMs };
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.etcd.get(this.keys.history, call);
      const list = current.kv ? (JSON.parse(current.kv.value) as HistoryEntry[]) : [];
      const value = JSON.stringify([...list, entry].slice(-HISTORY_LIMIT));
      const result = current.kv
        ? await this.etcd.compareAndSwap(this.keys.history, current.kv.modRevision, value, undefined, call)
        : await this.etcd.createIfAbsent(this.keys.history, value, undefined, call);
      if (result.succeeded) return;
    }
  }

  /** The leader's chores: slots for the others, the published WAL position, the synchronous set. */
  private async lead(o: Observation, signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const status = await this.pg.status(call);
    if (status.role !== 'primary') return;
    if (!this.slotsReady) {
      await this.pg.ensureSlots(this.peers.map((p) => p.name), call);
      await this.pg.ensureReplicationRole(call);
      this.slotsReady = true;
    }
    await this.etcd.put(this.keys.optime, formatLsn(status.lsn), call);
    if (!this.settings.synchronousMode) {
      this.alone = undefined;
      return;
    }
    const peers = this.peers.map((p) => p.name);
    const streaming = (await this.pg.streamingStandbys(call)).filter((n) => peers.includes(n));
    const applied = await this.reassertSync(call);
    const recorded = (o.syncSet ?? []).filter((n) => n !== this.pg.name);
    const wanted = this.wantedSync(streaming, applied, peers);
    let changed = false;
    for (const step of syncSteps(recorded, applied, wanted)) {
      if (!this.lease.isLeader) return;
      if (step.kind === 'apply') {
        await this.pg.setSynchronousStandbys(step.members, call);
        this.appliedSync = step.members;
        changed = true;
      } else if (!(await this.recordSync(step.members, call))) {
        return;
      }
    }
    if (changed) this.countAlone(await this.pg.synchronousState(call));
  }

  /**
   * The standbys commits should wait for. With one streaming: those. With none: strict keeps waiting
   * for the ones it had (every peer if none), so writes block; non-strict does the same for
   * `degradeAfterMs` (a standby re-pointing at a new primary, a blip), then goes asynchronous.
   */
  private wantedSync(streaming: string[], applied: string[], peers: string[]): string[] {
    if (streaming.length > 0) {
      this.noStandbySince = undefined;
      return streaming;
    }
    const now = performance.now();
    this.noStandbySince ??= now;
    if (this.strict) return applied.length > 0 ? applied : peers;
    if (applied.length === 0 || now - this.noStandbySince < this.degradeAfterMs) return applied;
    this.log.warn({ waitedMs: Math.round(now - this.noStandbySince), standbys: applied },
      'no synchronous standby streaming for degrade_after: going asynchronous; commits are acknowledged by the primary alone until one streams again');
    return [];
  }

  /**
   * synchronous_standby_names as PostgreSQL runs it (and as its configuration files would set it at the
   * next reload) against what this leader set: a difference was made behind its back (by hand, or by
   * a process that should not touch this data directory) and is put back at once. Returns the names in force.
   */
  private async reassertSync(call: { signal: AbortSignal; timeoutMs: number }): Promise<string[]> {
    const state = await this.pg.synchronousState(call);
    this.countAlone(state);
    const intended = this.appliedSync;
    if (intended === undefined) return (this.appliedSync = parseSynchronousStandbyNames(state.live));
    const value = synchronousStandbyNames(intended);
    // No file setting it: the next reload brings back the default, ''.
    if (state.live === value && (state.pending ?? '') === value) return intended;
    this.log.warn({ live: state.live, pending: state.pending, intended: value },
      'synchronous_standby_names was changed behind the leader (by hand or by another process); restoring it');
    this.emit('drift', { setting: 'synchronous_standby_names', live: state.live, pending: state.pending, intended: value });
    await this.pg.setSynchronousStandbys(intended, call);
    this.countAlone(await this.pg.synchronousState(call));
    return intended;
  }

  /** Accounts the time and write transactions since the last reading while the primary ran with no synchronous standby. */
  private countAlone(state: { live: string; nextXid: bigint }): void {
    const now = performance.now();
    if (this.alone) this.emit('withoutStandby', { ms: now - this.alone.at, transactions: Number(state.nextXid - this.alone.xid) });
    this.alone = state.live === '' ? { at: now, xid: state.nextXid } : undefined;
  }

  private get recordedSync(): string[] {
    return this.lastSyncSet ?? [];
  }

  /** Compare-and-swap on the sync key as read this iteration: a concurrent writer makes us skip a turn. */
  private async recordSync(members: string[], call: { signal: AbortSignal; timeoutMs: number }): Promise<boolean> {
    const value = JSON.stringify({ leader: this.pg.name, members } satisfies SyncRecord);
    const key = this.keys.sync;
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
    const snapshot = this.snapshot();
    const record: MemberRecord = {
      role: status.role, timeline: status.timeline, lsn: formatLsn(status.lsn), fenced: this.fenced,
      host: this.pg.endpoint.host, port: this.pg.endpoint.port, state: snapshot.state, at: new Date().toISOString(),
      ...(snapshot.following ? { following: snapshot.following } : {}), ...(snapshot.lagBytes !== undefined ? { lagBytes: snapshot.lagBytes } : {}),
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
    await this.etcd.put(this.keys.member(this.pg.name), JSON.stringify(record), { ...call, lease: this.memberLease });
  }
}

/** PostgreSQL's last lines when the error carries them (a failed start): the FATAL that says why. */
function postgresOutput(err: unknown): { postgres?: string[] } {
  const output = isBulwarkError(err) ? err.context.output : undefined;
  return typeof output === 'string' ? { postgres: output.trim().split('\n').slice(-5) } : {};
}

type PendingRequest<T> = T & { revision: number; lease: LeaseId | undefined };

function parseRequest<T>(got: GetResult): PendingRequest<T> | undefined {
  if (!got.kv) return undefined;
  try {
    return { ...(JSON.parse(got.kv.value) as T), revision: got.kv.modRevision, lease: got.kv.lease };
  } catch {
    return undefined;
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

/** True when `work` settles before `deadline` aborts (always, without a deadline). */
async function settlesBefore(work: Promise<unknown>, deadline?: AbortSignal): Promise<boolean> {
  if (!deadline) {
    await work.catch(() => undefined);
    return true;
  }
  if (deadline.aborted) return false;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    deadline.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true, () => true), aborted]);
  } finally {
    if (onAbort) deadline.removeEventListener('abort', onAbort);
  }
}
