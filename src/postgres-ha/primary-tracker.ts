/**
 * Which member of a database is the writable primary, for whoever routes
 * clients to it (the gateway's database service).
 *
 * With etcd, the leader key decides. Its changes arrive through a watch, and the
 * key is read again every `rereadMs` because a watch cannot tell a cut
 * connection from a quiet key (src/coordination/README.md). When the key leaves
 * the member we route to, `primary` becomes undefined at once: that member is
 * being fenced, and its sessions must go. When the key names a member, that
 * member's PostgreSQL is asked `pg_is_in_recovery()` every `pollMs` until it
 * accepts writes (the leader wins the key before its promotion ends), and only
 * then is it the primary. A key naming a member that is not configured is
 * never followed: the configuration is the list of addresses clients may be
 * sent to.
 *
 * Without etcd, and while etcd cannot be read, every member is asked every
 * `scanMs` and the single writable one is the primary. Two writable members
 * are a split brain: no one is routed to (and an error is logged). One round
 * without an answer from the current primary does not drop it; `missesToDrop`
 * in a row do.
 */
import { EventEmitter } from 'node:events';
import type { BulwarkConfig } from '../config/index.js';
import { CallDeadline, EtcdClient } from '../coordination/index.js';
import { errorMessage } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { databaseKeys, DEFAULT_PREFIX } from './keys.js';
import { queryRows } from './pg-query.js';

export interface TrackedMember {
  name: string;
  host: string;
  port: number;
}

export interface PrimaryAddress {
  member: string;
  host: string;
  port: number;
}

export type PrimaryTrackerState =
  | { kind: 'idle' }
  /** The leader key names `member`; waiting until its PostgreSQL accepts writes. */
  | { kind: 'waiting'; member: string }
  | { kind: 'primary'; member: string }
  | { kind: 'none'; reason: string }
  | { kind: 'stopped' };

export interface PrimaryTrackerEvents {
  /** Every change of the decision, and the first decision even when it is undefined. */
  primary: [PrimaryAddress | undefined];
  state: [PrimaryTrackerState];
}

/** `pg_is_in_recovery()` of one member: true for a replica; throws when it does not answer. */
export type RecoveryQuery = (member: TrackedMember, options: { signal: AbortSignal; timeoutMs: number }) => Promise<boolean>;

export interface PrimaryTrackerOptions {
  database: string;
  members: readonly TrackedMember[];
  user: string;
  password: string;
  /** Follow the leader key; without it, scan the members. */
  etcd?: Pick<EtcdClient, 'get' | 'watch'>;
  /** Key prefix, `/bulwark` by default. */
  prefix?: string;
  log?: Logger;
  /** A seam for tests; by default `SELECT pg_is_in_recovery()` over a short connection. */
  inRecovery?: RecoveryQuery;
  /** Leader key read again at least this often; 1000 ms. */
  rereadMs?: number;
  /** A newly named leader is asked this often until it accepts writes; 100 ms. */
  pollMs?: number;
  /** Without etcd: every member asked this often; 250 ms. */
  scanMs?: number;
  /** Bound on one question to PostgreSQL, connecting included; 1000 ms. */
  queryTimeoutMs?: number;
  /** Scan: rounds in a row without an answer from the current primary before it is dropped; 3. */
  missesToDrop?: number;
  /** Called once the tracker has stopped (e.g. to close an etcd client it owns). */
  onStopped?: () => Promise<void>;
}

/** One member's answer in a scan: `undefined` when it did not answer. */
export interface ScanAnswer {
  member: string;
  inRecovery: boolean | undefined;
}

export interface ScanDecision {
  primary: string | undefined;
  /** Misses of the kept primary so far (0 unless it was kept without answering). */
  misses: number;
  /** Set when more than one member accepts writes. */
  splitBrain?: string[];
  reason: string;
}

/**
 * The scan rule: exactly one writable member is the primary; two or more is a
 * split brain and no one; none writable keeps the current primary only while it
 * merely failed to answer, for fewer than `missesToDrop` rounds in a row.
 */
export function chooseFromScan(answers: readonly ScanAnswer[], current: string | undefined, misses: number, missesToDrop: number): ScanDecision {
  const writable = answers.filter((a) => a.inRecovery === false).map((a) => a.member);
  if (writable.length > 1) return { primary: undefined, misses: 0, splitBrain: writable, reason: `split brain: ${writable.join(', ')} all accept writes` };
  if (writable.length === 1) return { primary: writable[0], misses: 0, reason: 'the only member that accepts writes' };
  const silent = current !== undefined && answers.find((a) => a.member === current)?.inRecovery === undefined;
  if (silent && misses + 1 < missesToDrop) return { primary: current, misses: misses + 1, reason: `${current} did not answer (${misses + 1} in a row)` };
  return { primary: undefined, misses: 0, reason: silent ? `${current} did not answer ${missesToDrop} times in a row` : 'no member accepts writes' };
}

interface LeaderTerm {
  name: string;
  /** The key's create revision: a new acquisition of the key, even by the same member, is a new term. */
  term: number;
}

const DEFAULTS = { rereadMs: 1000, pollMs: 100, scanMs: 250, queryTimeoutMs: 1000, missesToDrop: 3 };

export class PrimaryTracker extends EventEmitter<PrimaryTrackerEvents> {
  private readonly o: PrimaryTrackerOptions & typeof DEFAULTS;
  private readonly log: Logger;
  private readonly members: Map<string, TrackedMember>;
  private readonly inRecovery: RecoveryQuery;
  private state: PrimaryTrackerState = { kind: 'idle' };
  private primary: PrimaryAddress | undefined;
  private decided = false;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** The leader key as last seen; undefined when unknown (not read yet, or etcd failing). */
  private leader: LeaderTerm | undefined;
  /** Aborts the wait for the named leader to accept writes. */
  private waiting: AbortController | undefined;
  private misses = 0;
  /** Waits for a named leader in flight, awaited by stop(). */
  private readonly pending = new Set<Promise<void>>();

  constructor(options: PrimaryTrackerOptions) {
    super();
    this.o = { ...DEFAULTS, ...options };
    this.log = (options.log ?? silentLogger()).child({ component: 'primary-tracker', database: options.database });
    this.members = new Map(options.members.map((m) => [m.name, m]));
    this.inRecovery = options.inRecovery ?? ((m, call) => pgInRecovery(m, options.user, options.password, call));
  }

  /** The writable primary now; undefined while there is none (or none is known yet). */
  get current(): PrimaryAddress | undefined {
    return this.primary;
  }

  get status(): PrimaryTrackerState {
    return this.state;
  }

  /** Starts following; returns at once (the first decision is an event). */
  async start(): Promise<void> {
    if (this.loop || this.stopping) return;
    const controller = (this.controller = new AbortController());
    const run = this.o.etcd ? this.followKey(this.o.etcd, controller.signal) : this.scanLoop(controller.signal);
    this.loop = run.catch((err: unknown) => {
      if (!controller.signal.aborted) this.log.error({ err: errorMessage(err) }, 'primary tracker stopped on an error');
    });
  }

  /** Stops at once (there is nothing to drain: every question in flight is aborted). Safe to call twice. */
  stop(_deadline?: AbortSignal): Promise<void> {
    this.stopping ??= (async () => {
      this.controller?.abort();
      this.waiting?.abort();
      await this.loop;
      await Promise.all([...this.pending]);
      this.setState({ kind: 'stopped' });
      await this.o.onStopped?.();
    })();
    return this.stopping;
  }

  private async followKey(etcd: NonNullable<PrimaryTrackerOptions['etcd']>, signal: AbortSignal): Promise<void> {
    const key = databaseKeys(this.o.database, this.o.prefix ?? DEFAULT_PREFIX).leader;
    let failing = false;
    while (!signal.aborted) {
      let revision: number;
      try {
        const read = await etcd.get(key, { signal, timeoutMs: this.o.rereadMs });
        revision = read.revision;
        if (failing) this.log.info('etcd answers again: following the leader key');
        failing = false;
        this.follow(read.kv ? { name: read.kv.value, term: read.kv.createRevision } : undefined, signal);
      } catch (err) {
        if (signal.aborted) return;
        if (!failing) this.log.warn({ err: errorMessage(err) }, 'cannot read the leader key: asking the members directly until etcd answers');
        failing = true;
        this.forgetLeader();
        await this.scanOnce(signal);
        await sleep(this.o.scanMs, signal);
        continue;
      }
      await this.watchFor(etcd, key, revision, signal);
    }
  }

  /** Follows the key's changes for up to `rereadMs`; then the caller reads it again. */
  private async watchFor(etcd: NonNullable<PrimaryTrackerOptions['etcd']>, key: string, revision: number, signal: AbortSignal): Promise<void> {
    // Not AbortSignal.any: nothing may stay attached to the long-lived signal after each window.
    const window = new CallDeadline(signal, this.o.rereadMs);
    try {
      for await (const event of etcd.watch(key, revision + 1, window.signal)) {
        this.follow(event.type === 'put' ? { name: event.kv.value, term: event.kv.createRevision } : undefined, signal);
      }
    } catch (err) {
      // A broken watch: read again, after a short pause so a failing endpoint does not spin.
      if (!window.signal.aborted) {
        this.log.debug({ err: errorMessage(err) }, 'leader key watch broke; reading again');
        await sleep(this.o.pollMs, signal);
      }
    } finally {
      window.abort();
      window.dispose();
    }
  }

  /** The leader key as read or watched now. */
  private follow(next: LeaderTerm | undefined, signal: AbortSignal): void {
    const prev = this.leader;
    this.leader = next;
    // The same term: routing to it already, or still waiting for it to accept writes.
    if (prev && next && prev.name === next.name && prev.term === next.term) return;
    this.waiting?.abort();
    if (!next) {
      this.decide(undefined, 'the leader key is empty');
      return;
    }
    // The key was unknown (etcd was unreadable and a scan chose this member): its sessions stay.
    if (prev === undefined && this.primary?.member === next.name) return;
    if (this.primary) this.decide(undefined, `the leader key left ${this.primary.member} (being fenced) for ${next.name}`);
    const member = this.members.get(next.name);
    if (!member) {
      this.log.error({ leader: next.name, members: [...this.members.keys()] }, `the leader key names ${next.name}, which is not in databases.${this.o.database}.postgres.members: routing to no one`);
      this.decide(undefined, `the leader ${next.name} is not a configured member`);
      return;
    }
    const waiting = (this.waiting = new AbortController());
    const forward = (): void => waiting.abort();
    signal.addEventListener('abort', forward, { once: true });
    this.setState({ kind: 'waiting', member: member.name });
    const done = this.untilWritable(member, waiting.signal).finally(() => {
      signal.removeEventListener('abort', forward);
      this.pending.delete(done);
    });
    this.pending.add(done);
  }

  private forgetLeader(): void {
    this.leader = undefined;
    this.waiting?.abort();
  }

  /** Asks the named leader every `pollMs` until it accepts writes; then it is the primary. */
  private async untilWritable(member: TrackedMember, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    let lastError: string | undefined;
    while (!signal.aborted) {
      const round = performance.now();
      try {
        const recovering = await this.inRecovery(member, { signal, timeoutMs: this.o.queryTimeoutMs });
        if (signal.aborted) return;
        if (!recovering) {
          this.decide(member.name, `leader, accepts writes (${Math.round(performance.now() - started)} ms after the key named it)`);
          return;
        }
      } catch (err) {
        if (signal.aborted) return;
        const message = errorMessage(err);
        if (message !== lastError) this.log.debug({ member: member.name, err: message }, 'the leader does not answer yet');
        lastError = message;
      }
      await sleep(Math.max(0, this.o.pollMs - (performance.now() - round)), signal);
    }
  }

  private async scanLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const round = performance.now();
      await this.scanOnce(signal);
      await sleep(Math.max(0, this.o.scanMs - (performance.now() - round)), signal);
    }
  }

  private async scanOnce(signal: AbortSignal): Promise<void> {
    const answers = await Promise.all([...this.members.values()].map(async (m): Promise<ScanAnswer> => {
      try {
        return { member: m.name, inRecovery: await this.inRecovery(m, { signal, timeoutMs: this.o.queryTimeoutMs }) };
      } catch {
        return { member: m.name, inRecovery: undefined };
      }
    }));
    if (signal.aborted) return;
    const decision = chooseFromScan(answers, this.primary?.member, this.misses, this.o.missesToDrop);
    this.misses = decision.misses;
    if (decision.splitBrain && this.state.kind !== 'none') {
      this.log.error({ writable: decision.splitBrain }, 'split brain: more than one member accepts writes; routing to no one');
    }
    this.decide(decision.primary, decision.reason);
  }

  private decide(member: string | undefined, reason: string): void {
    const target = member === undefined ? undefined : this.members.get(member);
    const next = target && { member: target.name, host: target.host, port: target.port };
    this.setState(next ? { kind: 'primary', member: next.member } : { kind: 'none', reason });
    if (this.decided && next?.member === this.primary?.member) return;
    const from = this.primary?.member;
    this.decided = true;
    this.primary = next;
    this.log.info({ from: from ?? null, to: next?.member ?? null, reason }, next ? 'primary is now known' : 'no primary to route to');
    this.emit('primary', next);
  }

  private setState(next: PrimaryTrackerState): void {
    const prev = this.state;
    if (prev.kind === next.kind && ('member' in prev ? prev.member : undefined) === ('member' in next ? next.member : undefined)) return;
    this.state = next;
    this.log.debug({ from: prev, to: next }, 'primary tracker state');
    this.emit('state', next);
  }
}

async function pgInRecovery(member: TrackedMember, user: string, password: string, call: { signal: AbortSignal; timeoutMs: number }): Promise<boolean> {
  const rows = await queryRows<{ r: boolean }>({ host: member.host, port: member.port, user, password }, 'SELECT pg_is_in_recovery() AS r', [], call);
  if (rows[0] === undefined) throw new Error('pg_is_in_recovery() returned no row');
  return rows[0].r;
}

export interface PrimaryTrackerFactoryOptions {
  log?: Logger;
  /** An etcd client to share; without it, one is made per tracker from `coordination.etcd` (and closed when it stops). */
  etcd?: EtcdClient;
  /** Passed to every tracker (tests shorten the intervals). */
  tuning?: Pick<PrimaryTrackerOptions, 'rereadMs' | 'pollMs' | 'scanMs' | 'queryTimeoutMs' | 'missesToDrop'>;
}

/**
 * For the gateway (`new Gateway(..., { primaries: primaryTrackerFactory(...) })`):
 * the tracker of a PostgreSQL database from bulwark.yaml, following the leader
 * key when `coordination.etcd` is set, scanning the members otherwise.
 */
export function primaryTrackerFactory(options: PrimaryTrackerFactoryOptions = {}): (database: string, config: BulwarkConfig) => PrimaryTracker | undefined {
  return (database, config) => {
    const pg = config.databases[database]?.postgres;
    if (!pg) return undefined;
    const settings = config.coordination?.etcd;
    let etcd: EtcdClient | undefined = options.etcd;
    let onStopped: (() => Promise<void>) | undefined;
    if (!etcd && settings) {
      const owned = new EtcdClient({
        endpoints: settings.endpoints, timeoutMs: 1000,
        ...(settings.username === undefined ? {} : { username: settings.username }),
        ...(settings.password === undefined ? {} : { password: settings.password }),
      });
      etcd = owned;
      onStopped = () => owned.close();
    }
    return new PrimaryTracker({
      database,
      members: pg.members.map((m) => ({ name: m.name, host: m.host, port: m.port })),
      user: pg.superuser,
      password: pg.superuser_password ?? '',
      ...(etcd ? { etcd, prefix: settings?.prefix ?? DEFAULT_PREFIX } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(onStopped ? { onStopped } : {}),
      ...options.tuning,
    });
  };
}
