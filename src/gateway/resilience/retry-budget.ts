import { WindowCounter } from './window-counter.js';

/**
 * A retry budget (Finagle/Linkerd style, the rate form of Envoy's retry_budget): over a
 * sliding window, retries may not exceed
 *
 *     allowed = max(minRetriesPerSecond × windowSeconds, ratio × requests)
 *
 * where `requests` are first tries only (retries do not earn budget). The floor keeps
 * quiet services retrying at all; it is a maximum, not a sum, as Envoy's
 * min_retry_concurrency is, so the ratio alone governs busy services.
 *
 * Defaults: ratio 0.2 (the config's `budget`), minRetriesPerSecond 3 (Envoy's default
 * minimum of 3, read per second), window 10 s. Example: 100 req/s for 10 s = 1,000
 * requests → max(30, 200) = 200 retries in the window, i.e. at most 20 retries/s. At
 * 1 req/s: max(30, 2) = 30 retries per 10 s, so a quiet service can still retry every
 * failure. The window is counted in 10 slots (see WindowCounter).
 */
export interface RetryBudgetOptions {
  ratio: number;
  minRetriesPerSecond?: number;
  windowMs?: number;
  now?: () => number;
}

export class RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #requests: WindowCounter;
  readonly #retries: WindowCounter;

  constructor(opts: RetryBudgetOptions) {
    const windowMs = opts.windowMs ?? 10_000;
    if (!(opts.ratio >= 0)) throw new RangeError('RetryBudget ratio must be >= 0');
    this.#ratio = opts.ratio;
    this.#floor = (opts.minRetriesPerSecond ?? 3) * (windowMs / 1000);
    this.#requests = new WindowCounter({ windowMs, now: opts.now });
    this.#retries = new WindowCounter({ windowMs, now: opts.now });
  }

  /** Counts a first try. Call once per client request, never for retries. */
  recordRequest(): void {
    this.#requests.add();
  }

  /** Retries the budget allows in the current window. */
  allowed(): number {
    return Math.max(this.#floor, this.#ratio * this.#requests.count());
  }

  /** Whether one more retry fits, without spending it. */
  canRetry(): boolean {
    return this.#retries.count() + 1 <= this.allowed() + 1e-9;
  }

  /** Spends one retry if it fits; false means do not retry (count it as budget-exhausted). */
  tryAcquire(): boolean {
    if (!this.canRetry()) return false;
    this.#retries.add();
    return true;
  }

  snapshot(): { requests: number; retries: number; allowed: number } {
    return { requests: this.#requests.count(), retries: this.#retries.count(), allowed: this.allowed() };
  }
}
