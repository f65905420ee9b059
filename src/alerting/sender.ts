import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';
import { OUTCOME_LOST, type AlertingStore, type OutboxOutcome, type OutboxRecord } from '../store/index.js';
import type { AlertingMetrics } from './metrics.js';
import type { Channel, DeliveryResult, OutgoingMessage } from './types.js';

/**
 * The outbox worker: claims due notifications, sends each through its
 * channel, and records the outcome. A claim is a lease: rows a crashed sender
 * held are taken over when it expires (and at start, when they were ours).
 * Retries back off exponentially with jitter until the row's deadline;
 * per-channel rate limits keep a mass outage from flooding a receiver.
 *
 * Sends are pipelined: up to `window` are in flight, and a slot that frees is
 * filled by the next claim rather than after the whole batch. Outcomes are
 * recorded together, one transaction per turn of the event loop, so a storm
 * costs one commit per turn instead of one per row.
 */

export interface SenderOptions {
  store: AlertingStore;
  channels: () => ReadonlyMap<string, Channel>;
  rateLimits: () => ReadonlyMap<string, number>;
  metrics: AlertingMetrics;
  log: Logger;
  now?: () => number;
  /** How long one send may take before it is abandoned and retried. */
  sendTimeoutMs?: number;
  /** Sends in flight at most (default 64). */
  window?: number;
}

const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const IDLE_POLL_MS = 30_000;
const DEFAULT_WINDOW = 64;
/** While sends are in flight and nothing woke the sender, look for rows that became due (retries) this often. */
const RECHECK_MS = 1_000;

export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(1_000 * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
  return Math.round(base * (0.5 + random()));
}

/** Sliding one-minute window per channel; O(1) a message, as a raised limit lets tens of thousands into the window. */
class RateLimiter {
  private readonly sent = new Map<string, { times: number[]; head: number }>();

  /** 0 when a message may go now, else how long until it may. */
  waitMs(channel: string, perMinute: number, now: number): number {
    let window = this.sent.get(channel);
    if (!window) this.sent.set(channel, (window = { times: [], head: 0 }));
    while (window.head < window.times.length && window.times[window.head]! <= now - 60_000) window.head++;
    if (window.head > 1_024 && window.head * 2 > window.times.length) {
      window.times = window.times.slice(window.head);
      window.head = 0;
    }
    if (window.times.length - window.head < perMinute) {
      window.times.push(now);
      return 0;
    }
    return window.times[window.head]! + 60_000 - now;
  }
}

export class OutboxSender {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Woken while a pass runs: rows may have been queued since its last claim. */
  private again = false;
  private stopped = false;
  private readonly limiter = new RateLimiter();
  private readonly inFlight = new AbortController();
  private readonly now: () => number;
  private readonly sending = new Set<Promise<void>>();
  /** The pass waits here for a send to finish or for a wake-up. */
  private nudge: (() => void) | null = null;
  private outcomes: Array<{ id: number; outcome: OutboxOutcome }> = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly options: SenderOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Something was queued: send now (or as soon as the pass in progress has a free slot). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      this.nudge?.();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      } else void this.schedule();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.inFlight.abort();
    this.nudge?.();
    await this.running;
  }

  private async schedule(): Promise<void> {
    if (this.stopped) return;
    await this.countPending();
    const due = await this.options.store.nextOutboxDue().catch(() => null);
    const wait = due === null ? IDLE_POLL_MS : Math.min(Math.max(due - this.now(), 0), IDLE_POLL_MS);
    if (this.stopped) return;
    this.timer = setTimeout(() => this.wake(), wait);
    this.timer.unref();
  }

  /** `bulwark_alert_outbox_pending` after each pass: what is still waiting, per channel. */
  private async countPending(): Promise<void> {
    const counts = await this.options.store.outboxCounts().catch(() => undefined);
    if (!counts) return;
    this.options.metrics.outboxPending.reset();
    for (const c of counts) if (c.state === 'pending' || c.state === 'sending') this.options.metrics.outboxPending.inc({ channel: c.channel }, c.count);
  }

  /**
   * Claims and delivers everything due now, keeping up to `window` sends in
   * flight, and returns once every outcome is recorded (the timer's work;
   * tests call it directly).
   */
  async pass(): Promise<void> {
    const window = Math.max(1, this.options.window ?? DEFAULT_WINDOW);
    let more = true;
    let lastClaim = 0;
    try {
      while (!this.stopped) {
        const room = window - this.sending.size;
        if (room > 0 && (more || this.again || this.now() - lastClaim >= RECHECK_MS)) {
          this.again = false;
          const now = this.now();
          lastClaim = now;
          const rows = await this.options.store.claimOutbox(now, room, now + LEASE_MS);
          more = rows.length === room;
          for (const row of rows) this.track(this.deliver(row));
        }
        if (this.sending.size === 0) {
          if (!more && !this.again) break;
          continue;
        }
        await this.nextEvent();
      }
    } catch (err) {
      this.options.log.error({ err: (err as Error).message }, 'outbox pass failed; retrying');
    } finally {
      await Promise.all(this.sending);
      await this.flush();
    }
  }

  private track(send: Promise<void>): void {
    const tracked = send.finally(() => {
      this.sending.delete(tracked);
      this.nudge?.();
    });
    this.sending.add(tracked);
  }

  /**
   * Until a send finishes or the sender is woken, but at most RECHECK_MS (rows
   * may come due by time); then the rest of this turn of the event loop, so
   * that one claim fills every slot freed in it and probe timers run between.
   */
  private async nextEvent(): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.nudge === done) this.nudge = null;
        resolve();
      };
      const timer = setTimeout(done, RECHECK_MS);
      timer.unref();
      this.nudge = done;
    });
    await yieldToLoop();
  }

  /**
   * Queues an outcome for the next flush: while other sends are in flight,
   * every outcome of one turn of the event loop goes in one transaction; the
   * only one in flight is written at once.
   */
  private record(id: number, outcome: OutboxOutcome): Promise<void> {
    this.outcomes.push({ id, outcome });
    if (this.sending.size <= 1) return this.flush();
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return this.flushing;
  }

  private async flush(): Promise<void> {
    const batch = this.outcomes;
    this.outcomes = [];
    this.flushing = null;
    if (batch.length === 0) return;
    await this.options.store.completeOutboxMany(batch).catch((err: unknown) => {
      // The rows stay claimed: when the lease lapses they are sent again, counted as resent.
      this.options.log.error({ err: (err as Error).message, notifications: batch.length }, 'could not record notification outcomes; they will be retried when their lease expires');
    });
  }

  private async deliver(row: OutboxRecord): Promise<void> {
    const { metrics } = this.options;
    const channel = this.options.channels().get(row.channel);
    const now = this.now();
    if (!channel) {
      metrics.notifications.inc({ channel: row.channel, result: 'dead' });
      return this.record(row.id, { state: 'dead', error: `channel "${row.channel}" is no longer configured` });
    }
    if (now >= row.deadlineAt) {
      metrics.notifications.inc({ channel: row.channel, result: 'dead' });
      return this.record(row.id, { state: 'dead', error: `deadline passed before it could be sent${row.lastError ? ` (last error: ${row.lastError})` : ''}` });
    }
    const wait = this.limiter.waitMs(row.channel, this.options.rateLimits().get(row.channel) ?? 60, now);
    if (wait > 0) {
      metrics.notifications.inc({ channel: row.channel, result: 'rate_limited' });
      return this.record(row.id, { state: 'deferred', nextAttemptAt: now + wait });
    }
    // Taken over after a lost outcome: this send may be a duplicate.
    if (row.lastError === OUTCOME_LOST) metrics.resentAfterClaim.inc({ channel: row.channel });
    const signal = AbortSignal.any([this.inFlight.signal, AbortSignal.timeout(this.options.sendTimeoutMs ?? 15_000)]);
    const result: DeliveryResult = await channel.send(row.message as OutgoingMessage, signal).catch((err: unknown): DeliveryResult => ({ ok: false, retryable: true, error: (err as Error).message }));
    if (this.stopped && !result.ok) return; // the lease lapses; the next start sends it
    const done = this.now();
    if (result.ok) {
      metrics.notifications.inc({ channel: row.channel, result: 'delivered' });
      metrics.deliverySeconds.observe({ channel: row.channel }, Math.max(0, done - Math.max(row.createdAt, row.nextAttemptAt)) / 1000);
      return this.record(row.id, { state: 'delivered', at: done });
    }
    // Retry-After is a floor, not a replacement: "Retry-After: 0" must not turn the backoff into a tight loop.
    const next = done + Math.max(result.retryAfterMs ?? 0, backoffMs(row.attempts));
    if (result.retryable && next < row.deadlineAt) {
      metrics.notifications.inc({ channel: row.channel, result: 'retry' });
      this.options.log.warn({ channel: row.channel, incident: row.incidentId, attempts: row.attempts, error: result.error }, 'notification failed; will retry');
      return this.record(row.id, { state: 'pending', nextAttemptAt: next, error: result.error });
    }
    metrics.notifications.inc({ channel: row.channel, result: 'dead' });
    this.options.log.error({ channel: row.channel, incident: row.incidentId, attempts: row.attempts, error: result.error }, 'notification given up');
    return this.record(row.id, { state: 'dead', error: result.error });
  }
}
