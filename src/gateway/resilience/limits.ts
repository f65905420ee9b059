import { WindowCounter } from './window-counter.js';

/**
 * Per-endpoint concurrency limits, after Envoy's circuit-breaker thresholds
 * max_connections / max_pending_requests and HAProxy's `maxconn` + queue:
 *
 * - under `maxConnections` in use, `acquire` resolves at once;
 * - otherwise it waits in a FIFO queue of at most `maxPending`; a waiter whose signal
 *   aborts leaves the queue and its promise rejects with the signal's reason;
 * - with the queue full it resolves `{ ok: false, reason: 'overloaded', retryAfterSeconds }`
 *   at once (a result, not an exception: overload is expected traffic, not a bug).
 *
 * Retry-After: the time the queue would take to drain at the recent completion rate,
 * `ceil((pending + 1) / completionsPerSecond)`, the rate measured over the last 10 s;
 * at least 1 and at most 60 seconds, and 1 when nothing completed recently (no data).
 * Example: 10 pending, 20 completions in the last 10 s (2/s) → ceil(11 / 2) = 6 s.
 *
 * `release()` is idempotent; it hands the slot straight to the oldest waiter.
 */
export type Release = () => void;
export type AcquireResult =
  | { ok: true; release: Release }
  | { ok: false; reason: 'overloaded'; retryAfterSeconds: number };

export interface ConcurrencyLimiterOptions {
  maxConnections: number;
  maxPending: number;
  now?: () => number;
}

interface Waiter {
  resolve: (r: AcquireResult) => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

const RATE_WINDOW_MS = 10_000;
const MAX_RETRY_AFTER_S = 60;

export class ConcurrencyLimiter {
  readonly #max: number;
  readonly #maxPending: number;
  readonly #queue: Waiter[] = [];
  readonly #completions: WindowCounter;
  #active = 0;

  constructor(opts: ConcurrencyLimiterOptions) {
    if (!(opts.maxConnections >= 1) || !(opts.maxPending >= 0)) {
      throw new RangeError('ConcurrencyLimiter needs maxConnections >= 1 and maxPending >= 0');
    }
    this.#max = opts.maxConnections;
    this.#maxPending = opts.maxPending;
    this.#completions = new WindowCounter({ windowMs: RATE_WINDOW_MS, now: opts.now });
  }

  get active(): number {
    return this.#active;
  }

  get pending(): number {
    return this.#queue.length;
  }

  acquire(signal?: AbortSignal): Promise<AcquireResult> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.#max) {
      this.#active++;
      return Promise.resolve({ ok: true, release: this.#releaser() });
    }
    if (this.#queue.length >= this.#maxPending) {
      return Promise.resolve({ ok: false, reason: 'overloaded', retryAfterSeconds: this.retryAfterSeconds() });
    }
    return new Promise<AcquireResult>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#queue.indexOf(waiter);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = { resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** The Retry-After an overloaded answer would carry now (see the file comment). */
  retryAfterSeconds(): number {
    const perSecond = this.#completions.count() / (RATE_WINDOW_MS / 1000);
    if (perSecond <= 0) return 1;
    const seconds = Math.ceil((this.#queue.length + 1) / perSecond);
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, seconds));
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#completions.add();
      const next = this.#queue.shift();
      if (next) {
        next.cleanup();
        next.resolve({ ok: true, release: this.#releaser() });
      } else {
        this.#active--;
      }
    };
  }
}

/**
 * Takes a slot in `outer` (e.g. a service-wide cap) and then in `inner` (the endpoint),
 * always in that order so two callers cannot deadlock; gives back the outer slot when
 * the inner one is refused or aborted. The returned release frees both.
 */
export async function acquireBoth(
  outer: ConcurrencyLimiter, inner: ConcurrencyLimiter, signal?: AbortSignal,
): Promise<AcquireResult> {
  const first = await outer.acquire(signal);
  if (!first.ok) return first;
  let second: AcquireResult;
  try {
    second = await inner.acquire(signal);
  } catch (err) {
    first.release();
    throw err;
  }
  if (!second.ok) {
    first.release();
    return second;
  }
  const innerRelease = second.release;
  return { ok: true, release: () => { innerRelease(); first.release(); } };
}
