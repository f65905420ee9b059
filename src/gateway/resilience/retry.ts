/**
 * When to retry, and how long to wait first: Envoy's retry policy and backoff.
 *
 * `attempts` (the config's retries.attempts) is the number of RETRIES after the first
 * try, as Envoy's num_retries and HAProxy's `retries`: attempts 2 → at most 3 tries.
 * `attempt` passed to `shouldRetry` is the 1-based number of the try that just failed.
 *
 * What each retry_on value covers (Envoy's mapping: the gateway answers 502/503/504 for
 * every failure where the upstream said nothing, so those count as 5xx and gateway-error):
 *
 * | outcome                         | 5xx | gateway-error | reset | connect-failure | refused-stream |
 * |---------------------------------|-----|---------------|-------|-----------------|----------------|
 * | response 500, 501, 505-599      | yes |               |       |                 |                |
 * | response 502, 503, 504          | yes | yes           |       |                 |                |
 * | response < 500                  |     |               |       |                 |                |
 * | per_try_timeout                 | yes | yes           |       |                 |                |
 * | reset (before any response)     | yes | yes           | yes   |                 |                |
 * | connect_failure (refused/timed) | yes | yes           |       | yes             |                |
 * | refused_stream                  | yes | yes           | yes   |                 | yes            |
 *
 * Methods: only GET HEAD OPTIONS PUT DELETE TRACE are retried unless `nonIdempotent`,
 * or `idempotentOverride` says otherwise (e.g. an Idempotency-Key header). The one
 * exception: `connect_failure` and `refused_stream` are retried for any method, because
 * the request provably never reached the application (no connection; HTTP/2
 * REFUSED_STREAM guarantees the stream was not processed, RFC 9113 §8.7).
 */
/** A service without `retries:` in either engine: two attempts, on connect failures and resets. */
export const DEFAULT_RETRIES = { attempts: 2, retry_on: ['connect-failure', 'reset'], non_idempotent: false, budget: 0.2 } as const;

export type RetryOn = '5xx' | 'gateway-error' | 'reset' | 'connect-failure' | 'refused-stream';
export type AttemptOutcome = 'response' | 'per_try_timeout' | 'reset' | 'connect_failure' | 'refused_stream';

export interface RetryPolicyOptions {
  attempts: number;
  retryOn: readonly RetryOn[];
  nonIdempotent?: boolean;
  /** Backoff base and cap in ms; Envoy's defaults 25 and 250. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

export interface RetryQuestion {
  attempt: number;
  method: string;
  outcome: AttemptOutcome;
  /** The status when `outcome` is 'response'. */
  status?: number;
  /** true: treat as idempotent whatever the method; false: as non-idempotent. */
  idempotentOverride?: boolean;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** The retry_on values that cover an outcome (the table above). */
export function retryClasses(outcome: AttemptOutcome, status?: number): RetryOn[] {
  switch (outcome) {
    case 'response': {
      if (status === undefined || status < 500 || status > 599) return [];
      return status >= 502 && status <= 504 ? ['5xx', 'gateway-error'] : ['5xx'];
    }
    case 'per_try_timeout': return ['5xx', 'gateway-error'];
    case 'reset': return ['5xx', 'gateway-error', 'reset'];
    case 'connect_failure': return ['5xx', 'gateway-error', 'connect-failure'];
    case 'refused_stream': return ['5xx', 'gateway-error', 'reset', 'refused-stream'];
  }
}

export class RetryPolicy {
  readonly #opts: RetryPolicyOptions;
  readonly #retryOn: ReadonlySet<RetryOn>;
  readonly #base: number;
  readonly #max: number;
  readonly #random: () => number;

  constructor(opts: RetryPolicyOptions) {
    this.#opts = opts;
    this.#retryOn = new Set(opts.retryOn);
    this.#base = opts.backoffBaseMs ?? 25;
    this.#max = Math.max(opts.backoffMaxMs ?? 250, this.#base);
    this.#random = opts.random ?? Math.random;
  }

  /** From the config's `retries` block (durations already in ms). */
  static fromConfig(cfg: {
    attempts: number; retry_on: readonly RetryOn[]; non_idempotent: boolean;
    backoff?: { base: number; max: number } | undefined;
  }, random?: () => number): RetryPolicy {
    return new RetryPolicy({
      attempts: cfg.attempts, retryOn: cfg.retry_on, nonIdempotent: cfg.non_idempotent,
      backoffBaseMs: cfg.backoff?.base, backoffMaxMs: cfg.backoff?.max, random,
    });
  }

  get maxAttempts(): number {
    return this.#opts.attempts;
  }

  shouldRetry(q: RetryQuestion): boolean {
    if (q.attempt > this.#opts.attempts) return false;
    const classes = retryClasses(q.outcome, q.status);
    if (!classes.some((c) => this.#retryOn.has(c))) return false;
    if (q.outcome === 'connect_failure' || q.outcome === 'refused_stream') return true;
    const idempotent = q.idempotentOverride ?? IDEMPOTENT.has(q.method.toUpperCase());
    return idempotent || this.#opts.nonIdempotent === true;
  }

  /**
   * Wait before retry number `attempt` (1 = the first retry): "full jitter", uniform in
   * [0, ceiling) with ceiling = min(max, base × 2^(attempt−1)). Base 25, max 250:
   * ceilings 25, 50, 100, 200, 250, 250… Whole milliseconds.
   */
  backoffMs(attempt: number): number {
    const exp = Math.max(0, Math.min(attempt - 1, 30));
    const ceiling = Math.min(this.#max, this.#base * 2 ** exp);
    return Math.floor(this.#random() * ceiling);
  }
}
