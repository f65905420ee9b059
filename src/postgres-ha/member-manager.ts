/**
 * The HA loop of one PostgreSQL member: every `loopWaitMs` it observes
 * PostgreSQL and etcd (member-observe.ts), runs `decide`, applies the action
 * (rejoin: member-rejoin.ts, hand-over: member-handover.ts, promote, follow,
 * fence), does the leader's chores (slots, optime, the synchronous set:
 * member-sync.ts) and publishes its own record (member-publish.ts). The primary
 * holds the leader key through a LeaderLease; the lease's `deadline` and `lost`
 * events fence PostgreSQL at once, outside the loop. The etcd keys are
 * described in keys.ts and read through ha-state.ts.
 */
import { EventEmitter } from 'node:events';
import { LeaderLease, type EtcdClient } from '../coordination/index.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Subsystem } from '../core/lifecycle.js';
import { decide, formatLsn, type Action, type Lsn, type Observation, type PgRole } from './decide.js';
import type { HaState } from './ha-state.js';
import { databaseKeys, type DatabaseKeys, type FailoverRequest, type HistoryEntry, type MemberRecord, type SwitchoverRequest, type SyncRecord } from './keys.js';
import { sleep } from '../core/time.js';
import { clearRequest, postgresOutput, settlesBefore, type MemberContext, type PendingRequest } from './member-context.js';
import { handOver } from './member-handover.js';
import { observeCluster, synchronousPeers, type Peer } from './member-observe.js';
import { MemberPublisher } from './member-publish.js';
import { rejoin } from './member-rejoin.js';
import { SynchronousSet } from './member-sync.js';
import { readPgStatus, type PgStatus, type PostgresMember } from './postgres-process.js';

export type { Peer };

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

/**
 * Whether this member may have diverged from whoever leads next: `fenced` (stopped so it cannot accept
 * writes; it rejoins only under another leader), `restarted` (started read-only with no leader after
 * being fenced: its WAL may go past the next leader's fork until it is rewound or promoted), `clean`.
 */
type Standing = 'clean' | 'fenced' | 'restarted';

/** What the last iteration saw, for the snapshot, the metrics and the measured failover duration. */
interface Seen {
  status: PgStatus;
  following: string | undefined;
  leaderOptime: Lsn | undefined;
  reason: string;
  /** The last logged decision line: a decision is logged when it changes. */
  actionLine: string;
  /** When this member first saw no leader (performance.now()). */
  leaderGoneSince: number | undefined;
  lastKnownLeader: string | undefined;
  /** The sync record's `leader` and `members` as last read. */
  syncLeader: string | undefined;
  syncSet: string[] | undefined;
  /** A replica following the leader without streaming since (performance.now()). */
  notStreamingSince: number | undefined;
}

export class MemberManager extends EventEmitter<MemberManagerEvents> implements Subsystem {
  readonly name: string;
  readonly lease: LeaderLease;
  private readonly pg: PostgresMember;
  private readonly etcd: EtcdClient;
  private readonly keys: DatabaseKeys;
  private readonly requestTimeoutMs: number;
  private readonly usePgRewind: boolean;
  private readonly log: Logger;
  private readonly ctx: MemberContext;
  private readonly sync: SynchronousSet;
  private readonly publisher: MemberPublisher;
  private loopWaitMs: number;
  private ttlSeconds: number;
  private settings: Observation['settings'];
  private strict: boolean;
  private degradeAfterMs: number;
  /** Every other member; a configuration reload may change it. */
  private peers: readonly Peer[];
  private current: ManagerState = { kind: 'idle' };
  private standing: Standing = 'clean';
  /** The long operation under way (a rejoin, a handover), shown as the state. */
  private busy: string | undefined;
  private seen: Seen = {
    status: { role: 'stopped', timeline: 0, lsn: 0n, upstream: undefined }, following: undefined, leaderOptime: undefined, reason: 'starting',
    actionLine: '', leaderGoneSince: undefined, lastKnownLeader: undefined, syncLeader: undefined, syncSet: undefined, notStreamingSince: undefined,
  };
  private pendingSwitchover: PendingRequest<SwitchoverRequest> | undefined;
  private pendingFailover: PendingRequest<FailoverRequest> | undefined;
  /** Leader chore: slots for the peers and the replication role, once per term (or after the peers change). */
  private slotsReady = false;
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
    this.ctx = {
      pg: this.pg, etcd: this.etcd, keys: this.keys, lease: this.lease, log: this.log, requestTimeoutMs: this.requestTimeoutMs,
      peers: () => this.peers, setBusy: (text) => (this.busy = text),
    };
    this.sync = new SynchronousSet({
      pg: this.pg, etcd: this.etcd, keys: this.keys, log: this.log, isLeader: () => this.lease.isLeader,
      events: {
        syncChanged: (members) => this.emit('syncChanged', { members }),
        drift: (info) => this.emit('drift', info),
        withoutStandby: (info) => this.emit('withoutStandby', info),
      },
    });
    this.publisher = new MemberPublisher(this.etcd, this.keys, this.pg.name, () => this.ttlSeconds);
    // Fence on the event itself, not at the next loop iteration: the margin is all we have.
    this.lease.on('deadline', () => this.fenceNow('leader lease validity passed without renewal'));
    this.lease.on('lost', ({ detail }) => this.fenceNow(`leader key lost: ${detail}`));
  }

  get state(): ManagerState {
    return this.current;
  }

  get isFenced(): boolean {
    return this.standing === 'fenced';
  }

  snapshot(): MemberSnapshot {
    const s = this.seen.status;
    const optime = this.seen.leaderOptime;
    const lag = s.role === 'replica' && optime !== undefined && optime > s.lsn ? Number(optime - s.lsn) : s.role === 'replica' ? 0 : undefined;
    return {
      name: this.pg.name, role: this.pg.running ? s.role : 'stopped', leader: this.lease.isLeader, fenced: this.isFenced,
      state: this.busy ?? this.seen.reason, timeline: s.timeline, lsn: formatLsn(s.lsn),
      following: s.role === 'replica' ? this.seen.following : undefined, lagBytes: lag,
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
    this.sync.forget();
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
    await this.publisher.withdraw({ timeoutMs: this.requestTimeoutMs, signal: deadline });
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
      // Watched closely while every loop is write downtime: a pending switchover or manual failover, and a free
      // leader key (for one TTL): a new leader is taken, and followed by the others, within 100 ms instead of a loop.
      const wait = this.pendingSwitchover || this.pendingFailover || this.leaderVacant() ? Math.min(100, this.loopWaitMs) : this.loopWaitMs;
      await sleep(Math.max(0, wait - (performance.now() - started)), signal);
    }
  }

  private leaderVacant(): boolean {
    const since = this.seen.leaderGoneSince;
    return since !== undefined && performance.now() - since < this.ttlSeconds * 1000;
  }

  private fenceNow(reason: string): void {
    if (this.standing === 'fenced' && !this.pg.running) return;
    this.standing = 'fenced';
    const at = performance.now();
    this.log.error({ reason }, 'fencing PostgreSQL');
    this.emit('fenced', { reason, at });
    this.pg.fence().catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'fencing failed'));
  }

  private async iterate(signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const status = await this.pg.status(call).catch((): PgStatus => ({ role: 'unknown', timeline: 0, lsn: 0n, upstream: undefined }));
    const observation = await this.observe(status, signal);
    if (await this.restartedStalledReplica(observation, signal)) return;
    const action = decide(observation);
    const line = `${action.kind}:${'leader' in action ? action.leader : ''}:${action.reason}`;
    if (line !== this.seen.actionLine) this.log.info({ action: action.kind, reason: action.reason }, 'HA decision');
    this.seen.actionLine = line;
    this.seen.reason = action.reason;
    this.emit('action', { action, at: performance.now() });
    await this.apply(action, status, signal);
    if (this.lease.isLeader && this.standing !== 'fenced') await this.lead(observation, signal);
    await this.publish(signal);
  }

  private async observe(status: PgStatus, signal: AbortSignal): Promise<Observation> {
    const { observation, state } = await observeCluster({
      me: this.pg.name, status, peers: this.peers, etcd: this.etcd, keys: this.keys, requestTimeoutMs: this.requestTimeoutMs,
      fenced: this.isFenced, holdsLease: this.lease.isLeader,
      vacantMs: this.seen.leaderGoneSince === undefined ? 0 : performance.now() - this.seen.leaderGoneSince,
      settings: { ...this.settings, restartInPlaceAfterMs: this.ttlSeconds * 1000 },
    }, signal, this.log);
    if (state) this.remember(state);
    const seen = this.seen;
    seen.status = status;
    seen.following = observation.following;
    seen.leaderOptime = observation.leaderOptime;
    if (observation.leader !== undefined && observation.leader !== this.pg.name) seen.lastKnownLeader = observation.leader;
    if (observation.etcdReachable) seen.leaderGoneSince = observation.leader === undefined ? (seen.leaderGoneSince ?? performance.now()) : undefined;
    return observation;
  }

  /** The keys read this iteration that later steps act on: pending requests (with their revisions), the sync record. */
  private remember(state: HaState): void {
    const request = <T>(v: HaState['switchover'] | HaState['failover']): PendingRequest<T> | undefined =>
      v && ({ ...(v.value as T), revision: v.modRevision, lease: v.lease });
    this.pendingSwitchover = request<SwitchoverRequest>(state.switchover);
    this.pendingFailover = request<FailoverRequest>(state.failover);
    this.sync.seen(state.sync?.modRevision ?? 0);
    this.seen.syncLeader = state.sync?.value.leader;
    this.seen.syncSet = state.sync?.value.members;
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
    if (!following || this.seen.status.streaming !== false) {
      this.seen.notStreamingSince = undefined;
      return false;
    }
    const now = performance.now();
    const since = (this.seen.notStreamingSince ??= now);
    if (now - since < Math.max(10_000, 5 * this.loopWaitMs)) return false;
    const leader = this.peers.find((p) => p.name === o.leader);
    const theirs = leader ? await readPgStatus(leader.endpoint, { signal, timeoutMs: this.requestTimeoutMs }).catch(() => undefined) : undefined;
    if (theirs?.role !== 'primary') return false;
    const diverged = theirs.timeline > o.timeline || (theirs.timeline === o.timeline && o.lsn > theirs.lsn);
    if (!diverged) return false;
    this.log.warn({ leader: o.leader, stalledMs: Math.round(now - since), ours: `${o.timeline}/${formatLsn(o.lsn)}`, theirs: `${theirs.timeline}/${formatLsn(theirs.lsn)}` },
      'not streaming from the leader and diverged from its timeline; restarting to rejoin through pg_rewind');
    this.seen.notStreamingSince = undefined;
    await this.pg.stop();
    return true;
  }

  private async apply(action: Action, status: PgStatus, signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    switch (action.kind) {
      case 'stay':
      case 'wait':
        return;
      case 'fence':
        this.fenceNow(action.reason);
        await this.pg.fence();
        if (action.resign) await this.lease.resign(call).catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'resign failed; the key expires with its lease'));
        return;
      case 'acquire-leadership': {
        if (!(await this.lease.tryAcquire(call))) return;
        this.emit('acquired', { at: performance.now() });
        this.slotsReady = false;
        this.sync.forget();
        // Patroni promotes in the same iteration that won the key: every loop saved is downtime.
        if (status.role === 'replica') await this.promote(signal);
        else if (status.role === 'primary') await this.pg.armStandbySignal();
        return;
      }
      case 'promote':
        await this.promote(signal);
        return;
      case 'follow':
        await this.follow(action.leader, status, signal);
        return;
      case 'rejoin':
        await this.rejoin(action.leader, signal);
        return;
      case 'hand-over': {
        const outcome = await handOver(this.ctx, { to: action.to, request: this.pendingSwitchover, recordedSet: this.settings.synchronousMode ? (this.seen.syncSet ?? []) : undefined }, signal);
        if (outcome) this.emit('handover', outcome);
        return;
      }
    }
  }

  private async follow(leaderName: string, status: PgStatus, signal: AbortSignal): Promise<void> {
    const leader = this.peers.find((p) => p.name === leaderName);
    if (!leader || status.role !== 'replica') return;
    if (this.standing === 'restarted') {
      // A former primary restarted read-only: its WAL may go past the leader's fork. Stop cleanly so
      // that the next loop rejoins it through pg_rewind (no crash recovery needed after a clean stop).
      this.log.info({ leader: leaderName }, 'a former primary meets a new leader: stopping to rewind before following');
      await this.pg.stop();
      return;
    }
    await this.pg.follow(leader.endpoint, { signal, timeoutMs: this.requestTimeoutMs });
    this.log.info({ leader: leaderName }, 'following the leader');
  }

  private async rejoin(leaderName: string | undefined, signal: AbortSignal): Promise<void> {
    const outcome = await rejoin(this.ctx, leaderName, this.usePgRewind, signal);
    if (!outcome) return;
    const wasFenced = this.standing === 'fenced';
    // Started without a leader after being fenced (restart in place): until rewound against a leader or
    // promoted, its WAL may diverge from whoever leads next.
    this.standing = !outcome.following && wasFenced ? 'restarted' : 'clean';
    const { method, detail, durationMs } = outcome;
    this.log.info({ leader: leaderName, method, detail, durationMs, wasFenced }, outcome.following ? 'rejoined as a replica' : 'started read-only');
    this.emit('rejoined', { method, durationMs, detail });
  }

  private async promote(signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const switchover = this.pendingSwitchover;
    const failover = this.pendingFailover;
    // Synchronous mode: the new primary's first commits already wait for one of the other members, so
    // none is acknowledged by it alone while the standbys re-point at it (non-strict: it goes
    // asynchronous only after degrade_after with none streaming). Recorded before promotion, with us
    // as the last primary: nobody may take over without seeing all of them, and we may stand again after a crash.
    const initial = this.settings.synchronousMode ? synchronousPeers(this.peers) : [];
    if (this.settings.synchronousMode && !(await this.sync.recordBeforePromotion(initial, call))) {
      throw new BulwarkError('BACKEND_UNAVAILABLE', 'could not record the synchronous set before promotion (a concurrent change); promoting at the next loop');
    }
    await this.pg.promote({ signal, standbys: initial });
    this.standing = 'clean';
    const at = performance.now();
    this.sync.promoted(initial, at);
    await this.pg.armStandbySignal();
    this.emit('promoted', { at });
    const status = await this.pg.status(call).catch(() => undefined);
    const kind: HistoryEntry['kind'] = failover?.to === this.pg.name ? 'manual-failover' : switchover ? 'switchover' : 'failover';
    const from = switchover?.from ?? this.seen.lastKnownLeader ?? this.seen.syncLeader;
    const entry: HistoryEntry = {
      kind, from, to: this.pg.name, timeline: status?.timeline ?? 0,
      at: new Date().toISOString(), durationMs: Math.round(at - (this.seen.leaderGoneSince ?? at)),
    };
    // The first election of a cluster (nobody led before, or we did) is not a failover: no incident, no history.
    const firstElection = kind === 'failover' && (from === undefined || from === this.pg.name);
    if (firstElection) this.log.info({ timeline: entry.timeline, synchronousStandbys: initial }, 'elected the first primary of the cluster');
    else this.log.info({ kind, from: entry.from, timeline: entry.timeline, durationMs: entry.durationMs, synchronousStandbys: initial }, 'promoted to primary');
    if (switchover) await clearRequest(this.ctx, 'switchover', switchover.revision);
    if (failover?.to === this.pg.name) await clearRequest(this.ctx, 'failover', failover.revision);
    if (firstElection) return;
    this.emit('history', entry);
    await this.publisher.appendHistory(entry, { timeoutMs: this.requestTimeoutMs })
      .catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not record the failover in etcd'));
  }

  /** The leader's chores: slots and the replication role for the others, the published WAL position, the synchronous set. */
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
    if (!this.settings.synchronousMode) return this.sync.off();
    await this.sync.keep(o.syncSet, synchronousPeers(this.peers), this.strict, this.degradeAfterMs, call);
  }

  private async publish(signal: AbortSignal): Promise<void> {
    const call = { signal, timeoutMs: this.requestTimeoutMs };
    const status = await this.pg.status(call).catch((): PgStatus => ({ role: 'unknown', timeline: 0, lsn: 0n, upstream: undefined }));
    const snapshot = this.snapshot();
    const record: MemberRecord = {
      role: status.role, timeline: status.timeline, lsn: formatLsn(status.lsn), fenced: this.isFenced,
      host: this.pg.endpoint.host, port: this.pg.endpoint.port, state: snapshot.state, at: new Date().toISOString(),
      ...(snapshot.following ? { following: snapshot.following } : {}), ...(snapshot.lagBytes !== undefined ? { lagBytes: snapshot.lagBytes } : {}),
    };
    await this.publisher.publish(record, call);
  }
}

export type { Lsn };
