import { EventEmitter } from 'node:events';
import { BulwarkError, errorMessage, isBulwarkError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { CallOptions, LeaseId } from './etcd-client.js';
import { readHolder, waitForVacancy, type Holder, type LeaseStore } from './leader-key.js';
import { sleep } from '../core/time.js';

export interface LeaderLeaseOptions {
  store: LeaseStore;
  key: string;
  /** Who we are, as followers read it from the key (a member name). */
  value: string;
  ttlSeconds: number;
  /** Pause between renewals; ttl/3 by default. */
  loopWaitMs?: number;
  /**
   * How long before the lease could expire `deadline` fires: the time the holder
   * has to fence itself, plus event-loop lag. Default: 10% of the TTL, at least 500 ms.
   */
  safetyMarginMs?: number;
  /** Bound on each etcd call; by default as long as two can fail between renewals and still leave time. */
  requestTimeoutMs?: number;
  /** Pause before retrying a failed renewal; loopWait/4 by default (at least 50 ms). */
  retryWaitMs?: number;
  /** Monotonic clock in ms; performance.now by default. */
  now?: () => number;
  logger?: Logger;
}

export interface LeaderLeaseEvents {
  acquired: [info: { leaseId: LeaseId; revision: number; validUntil: number }];
  renewed: [info: { validUntil: number; ttlSeconds: number; roundTripMs: number }];
  renewFailed: [info: { error: unknown; validUntil: number }];
  /** etcd says we no longer hold it: the lease is gone or the key was changed. Fence at once. */
  lost: [info: { reason: 'lease-gone' | 'key-changed'; detail: string }];
  /** The validity passed without a renewal: the holder must fence NOW. Fired by a timer at `validUntil`. */
  deadline: [info: { validUntil: number; firedAt: number }];
  released: [];
}

export type LeaderLeaseState =
  | { kind: 'follower' }
  | { kind: 'leader'; leaseId: LeaseId; revision: number; validUntil: number };

interface Term {
  leaseId: LeaseId;
  revision: number;
  validUntil: number;
  stop: AbortController;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Leadership as a key bound to an etcd lease. Safety rests on `validUntil`: the
 * time the last successful keepalive (or the grant) was SENT plus the TTL etcd
 * returned, minus the margin. etcd renews no earlier than it receives the
 * request, so network delay can only make the real expiry later than we
 * believe, never earlier. A timer fires `deadline` at `validUntil`; a renewal
 * answered after `validUntil` no longer counts. Failed renewals before then are
 * retried quietly.
 */
export class LeaderLease extends EventEmitter<LeaderLeaseEvents> {
  private readonly store: LeaseStore;
  private readonly key: string;
  private readonly value: string;
  private ttlSeconds: number;
  private loopWaitMs: number;
  private readonly marginMs: number;
  private readonly requestTimeoutMs: number;
  private retryWaitMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private term: Term | undefined;
  private acquiring = false;
  private readonly cleanups = new Set<Promise<void>>();

  constructor(options: LeaderLeaseOptions) {
    super();
    const ttlMs = options.ttlSeconds * 1000;
    this.store = options.store;
    this.key = options.key;
    this.value = options.value;
    this.ttlSeconds = options.ttlSeconds;
    this.loopWaitMs = options.loopWaitMs ?? Math.round(ttlMs / 3);
    this.marginMs = options.safetyMarginMs ?? Math.max(500, ttlMs / 10);
    this.requestTimeoutMs = options.requestTimeoutMs ?? Math.max(1, Math.floor((ttlMs - this.marginMs - this.loopWaitMs) / 2));
    this.retryWaitMs = options.retryWaitMs ?? Math.max(50, Math.round(this.loopWaitMs / 4));
    this.now = options.now ?? (() => performance.now());
    this.log = (options.logger ?? silentLogger()).child({ component: 'leader-lease', key: options.key });
    checkTiming(ttlMs, this.loopWaitMs, this.marginMs, this.requestTimeoutMs);
  }

  get isLeader(): boolean {
    return this.term !== undefined;
  }

  /**
   * New timings from a configuration reload: the renewal interval applies from the next renewal,
   * the TTL from the next grant. Checked against the smaller of the old and new TTL, since a term
   * granted under the old TTL may still be running.
   */
  retime(ttlSeconds: number, loopWaitMs: number): void {
    checkTiming(Math.min(ttlSeconds, this.ttlSeconds) * 1000, loopWaitMs, this.marginMs, this.requestTimeoutMs);
    this.ttlSeconds = ttlSeconds;
    this.loopWaitMs = loopWaitMs;
    this.retryWaitMs = Math.max(50, Math.round(loopWaitMs / 4));
  }

  /** Monotonic ms (same clock as `now`) until which we may act as leader; undefined when not leader. */
  get validUntil(): number | undefined {
    return this.term?.validUntil;
  }

  state(): LeaderLeaseState {
    const t = this.term;
    return t ? { kind: 'leader', leaseId: t.leaseId, revision: t.revision, validUntil: t.validUntil } : { kind: 'follower' };
  }

  /** Who holds the key now (us or another), for followers. */
  async holder(options?: CallOptions): Promise<Holder | undefined> {
    return readHolder(this.store, this.key, this.callOptions(options));
  }

  /** One attempt: a fresh lease, then create-if-absent bound to it. True if we hold the key now. */
  async tryAcquire(options?: CallOptions): Promise<boolean> {
    if (this.term) return true;
    if (this.acquiring) throw new BulwarkError('USAGE', `already acquiring ${this.key}`, { hint: 'await the pending tryAcquire() or campaign() first' });
    this.acquiring = true;
    try {
      return await this.acquireOnce(this.callOptions(options));
    } finally {
      this.acquiring = false;
    }
  }

  /** Tries until we hold the key; between tries, waits for the key to be deleted (or loopWait). */
  async campaign(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      try {
        if (await this.tryAcquire({ signal })) return;
        await waitForVacancy(this.store, this.key, this.loopWaitMs, signal);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        this.log.warn({ err: errorMessage(err) }, 'campaign attempt failed; trying again');
        await sleep(this.retryWaitMs, signal);
      }
    }
  }

  /**
   * Gives leadership up: stops renewing and warning at once, then deletes the
   * key if it is still ours and revokes the lease. Call it after demoting:
   * from this call on, nothing fires `deadline`. Throws if etcd could not be
   * told (the key then lingers until the lease expires).
   */
  async resign(options?: CallOptions): Promise<void> {
    const term = this.term;
    if (!term) return;
    this.end(term);
    const call = this.callOptions(options);
    try {
      await this.store.deleteIfRevision(this.key, term.revision, call);
      await this.store.revokeLease(term.leaseId, call);
    } finally {
      this.emit('released');
    }
  }

  /** Lifecycle stop: resign if leader (errors logged, not thrown); safe to call twice. */
  async stop(): Promise<void> {
    await this.resign().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not release the leader key; it expires with its lease'));
    await Promise.all([...this.cleanups]);
  }

  private async acquireOnce(call: CallOptions): Promise<boolean> {
    const sentAt = this.now();
    const lease = await this.store.grantLease(this.ttlSeconds, call);
    let won = false;
    try {
      const result = await this.store.createIfAbsent(this.key, this.value, lease.id, call);
      const validUntil = sentAt + lease.ttlSeconds * 1000 - this.marginMs;
      won = result.succeeded && this.now() < validUntil;
      if (won) this.begin(lease.id, result.revision, validUntil);
      return won;
    } finally {
      // Lost, too slow, or unknown outcome: revoking also deletes the key if we did write it.
      if (!won) this.revokeLater(lease.id);
    }
  }

  private begin(leaseId: LeaseId, revision: number, validUntil: number): void {
    const term: Term = { leaseId, revision, validUntil, stop: new AbortController(), timer: undefined };
    this.term = term;
    this.armDeadline(term);
    // A listener that throws stops the renewals; the deadline timer still fires.
    this.renewLoop(term).catch((err: unknown) => this.log.error({ err: errorMessage(err) }, 'lease renewal loop failed'));
    this.log.info({ leaseId, revision }, 'acquired the leader key');
    this.emit('acquired', { leaseId, revision, validUntil });
  }

  private async renewLoop(term: Term): Promise<void> {
    let wait = this.loopWaitMs;
    while (await sleep(wait, term.stop.signal)) {
      wait = (await this.renewOnce(term)) ? this.loopWaitMs : this.retryWaitMs;
    }
  }

  /** One keepalive and a look at the key; whether we still lead afterwards. */
  private async renewOnce(term: Term): Promise<boolean> {
    const sentAt = this.now();
    let ttl: number;
    try {
      const timeoutMs = Math.max(1, Math.min(this.requestTimeoutMs, term.validUntil - sentAt));
      ttl = await this.store.keepAliveOnce(term.leaseId, { signal: term.stop.signal, timeoutMs });
    } catch (err) {
      if (this.term !== term) return false;
      if (isBulwarkError(err) && err.code === 'LEASE_LOST') return this.lose(term, 'lease-gone', err.message);
      this.log.warn({ err: errorMessage(err), msLeft: Math.round(term.validUntil - this.now()) }, 'lease renewal failed');
      this.emit('renewFailed', { error: err, validUntil: term.validUntil });
      return false;
    }
    if (this.term !== term) return false;
    if (ttl <= 0) return this.lose(term, 'lease-gone', 'etcd no longer knows the lease');
    if (this.now() >= term.validUntil) return this.expire(term);
    term.validUntil = Math.max(term.validUntil, sentAt + ttl * 1000 - this.marginMs);
    this.armDeadline(term);
    this.emit('renewed', { validUntil: term.validUntil, ttlSeconds: ttl, roundTripMs: this.now() - sentAt });
    return this.checkKey(term);
  }

  /** A keepalive proves the lease, not the key: someone may have deleted or replaced it. */
  private async checkKey(term: Term): Promise<boolean> {
    try {
      const holder = await readHolder(this.store, this.key, { signal: term.stop.signal, timeoutMs: this.requestTimeoutMs });
      if (this.term !== term) return false;
      if (holder?.leaseId === term.leaseId) return true;
      return this.lose(term, 'key-changed', holder ? `the key is held by ${holder.value} now` : 'the key was deleted');
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'could not read the leader key back');
      return this.term === term;
    }
  }

  private armDeadline(term: Term): void {
    clearTimeout(term.timer);
    term.timer = setTimeout(() => this.expire(term), Math.max(0, term.validUntil - this.now()));
  }

  private expire(term: Term): false {
    if (this.term !== term) return false;
    const firedAt = this.now();
    // Node computes a timer's due time from the loop's cached clock, which can make it fire early.
    if (term.validUntil - firedAt > 1) {
      this.armDeadline(term);
      return false;
    }
    this.end(term);
    this.log.error({ validUntil: term.validUntil, firedAt }, 'leader lease validity passed without a renewal: fence now');
    this.emit('deadline', { validUntil: term.validUntil, firedAt });
    this.revokeLater(term.leaseId);
    return false;
  }

  private lose(term: Term, reason: 'lease-gone' | 'key-changed', detail: string): false {
    if (this.term !== term) return false;
    this.end(term);
    this.log.error({ reason, detail }, 'lost the leader key');
    this.emit('lost', { reason, detail });
    if (reason === 'key-changed') this.revokeLater(term.leaseId);
    return false;
  }

  private end(term: Term): void {
    this.term = undefined;
    clearTimeout(term.timer);
    term.stop.abort();
  }

  /** Best effort, so others need not wait out the TTL; if etcd is unreachable the lease expires anyway. */
  private revokeLater(leaseId: LeaseId): void {
    const done: Promise<void> = this.store.revokeLease(leaseId, { timeoutMs: this.requestTimeoutMs })
      .catch((err: unknown) => this.log.debug({ err: errorMessage(err), leaseId }, 'could not revoke the lease'))
      .finally(() => this.cleanups.delete(done));
    this.cleanups.add(done);
  }

  private callOptions(options: CallOptions = {}): CallOptions {
    return { timeoutMs: this.requestTimeoutMs, ...options };
  }
}

function checkTiming(ttlMs: number, loopWaitMs: number, marginMs: number, requestTimeoutMs: number): void {
  if (loopWaitMs > 0 && marginMs >= 0 && requestTimeoutMs > 0 && loopWaitMs + 2 * requestTimeoutMs <= ttlMs - marginMs) return;
  throw new BulwarkError('USAGE', `leader lease timing does not fit: ttl ${ttlMs} ms, loop wait ${loopWaitMs} ms, request timeout ${requestTimeoutMs} ms, safety margin ${marginMs} ms`, {
    hint: 'keep loop_wait + 2 * request_timeout <= ttl - safety_margin, so that one hung etcd member cannot by itself let the lease run out',
  });
}
