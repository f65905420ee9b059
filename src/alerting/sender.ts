import type { Logger } from '../core/logger.js';
import { OUTCOME_LOST, type AlertingStore, type OutboxRecord } from '../store/index.js';
import type { AlertingMetrics } from './metrics.js';
import type { Channel, DeliveryResult, OutgoingMessage } from './types.js';

/**
 * The outbox worker: claims due notifications, sends each through its
 * channel, and records the outcome. A claim is a lease: rows a crashed sender
 * held are taken over when it expires (and at start, when they were ours).
 * Retries back off exponentially with jitter until the row's deadline;
 * per-channel rate limits keep a mass outage from flooding a receiver.
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
  batch?: number;
}

const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 5 * 60_000;
const IDLE_POLL_MS = 30_000;

export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(1_000 * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
  return Math.round(base * (0.5 + random()));
}

/** Sliding one-minute window per channel. */
class RateLimiter {
  private readonly sent = new Map<string, number[]>();

  /** 0 when a message may go now, else how long until it may. */
  waitMs(channel: string, perMinute: number, now: number): number {
    const recent = (this.sent.get(channel) ?? []).filter((t) => t > now - 60_000);
    this.sent.set(channel, recent);
    if (recent.length < perMinute) {
      recent.push(now);
      return 0;
    }
    return recent[0]! + 60_000 - now;
  }
}

export class OutboxSender {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly limiter = new RateLimiter();
  private readonly inFlight = new AbortController();
  private readonly now: () => number;

  constructor(private readonly options: SenderOptions) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Something was queued: send now (or right after the pass in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
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

  /** Claims and delivers everything due now (the timer's work; tests call it directly). */
  async pass(): Promise<void> {
    try {
      for (;;) {
        const now = this.now();
        const rows = await this.options.store.claimOutbox(now, this.options.batch ?? 50, now + LEASE_MS);
        if (rows.length === 0 || this.stopped) return;
        await Promise.all(rows.map((row) => this.deliver(row)));
      }
    } catch (err) {
      this.options.log.error({ err: (err as Error).message }, 'outbox pass failed; retrying');
    }
  }

  private async deliver(row: OutboxRecord): Promise<void> {
    const { store, metrics } = this.options;
    const channel = this.options.channels().get(row.channel);
    const now = this.now();
    if (!channel) {
      metrics.notifications.inc({ channel: row.channel, result: 'dead' });
      return store.completeOutbox(row.id, { state: 'dead', error: `channel "${row.channel}" is no longer configured` });
    }
    if (now >= row.deadlineAt) {
      metrics.notifications.inc({ channel: row.channel, result: 'dead' });
      return store.completeOutbox(row.id, { state: 'dead', error: `deadline passed before it could be sent${row.lastError ? ` (last error: ${row.lastError})` : ''}` });
    }
    const wait = this.limiter.waitMs(row.channel, this.options.rateLimits().get(row.channel) ?? 60, now);
    if (wait > 0) {
      metrics.notifications.inc({ channel: row.channel, result: 'rate_limited' });
      return store.completeOutbox(row.id, { state: 'deferred', nextAttemptAt: now + wait });
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
      return store.completeOutbox(row.id, { state: 'delivered', at: done });
    }
    // Retry-After is a floor, not a replacement: "Retry-After: 0" must not turn the backoff into a tight loop.
    const next = done + Math.max(result.retryAfterMs ?? 0, backoffMs(row.attempts));
    if (result.retryable && next < row.deadlineAt) {
      metrics.notifications.inc({ channel: row.channel, result: 'retry' });
      this.options.log.warn({ channel: row.channel, incident: row.incidentId, attempts: row.attempts, error: result.error }, 'notification failed; will retry');
      return store.completeOutbox(row.id, { state: 'pending', nextAttemptAt: next, error: result.error });
    }
    metrics.notifications.inc({ channel: row.channel, result: 'dead' });
    this.options.log.error({ channel: row.channel, incident: row.incidentId, attempts: row.attempts, error: result.error }, 'notification given up');
    return store.completeOutbox(row.id, { state: 'dead', error: result.error });
  }
}
