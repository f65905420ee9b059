/**
 * Passive outlier detection for one pool, after Envoy's consecutive_5xx and
 * consecutive_gateway_failure detectors.
 *
 * Counting:
 * - `5xx` (a 500-599 answer other than 502/503/504) adds to the error streak and breaks
 *   the gateway-error streak (Envoy does the same).
 * - `gateway_error` (502/503/504), `connect_failure`, `reset` and `timeout` add to both
 *   streaks: Envoy reports locally originated failures as gateway errors.
 * - `success` breaks both streaks.
 * - Outcomes for an endpoint that is currently ejected (stragglers still in flight) are
 *   ignored, so they cannot extend its ejection.
 * - `consecutiveGatewayErrors` left out disables the gateway detector (Envoy's
 *   `enforcing_consecutive_gateway_failure` defaults to 0).
 *
 * Ejection time is `baseEjectionMs × times`, `times` counting this ejection, capped at
 * `maxEjectionMs` (Envoy's max_ejection_time, default 300 s or base if larger).
 * Both streaks restart at zero after an ejection attempt, whether it happened or not.
 *
 * Probation and decay: when the ejection ends the endpoint serves again but keeps
 * `times`; for every full `baseEjectionMs` spent un-ejected `times` drops by one (Envoy
 * decrements its backoff multiplier while the host stays un-ejected). Example with base
 * 30 s: ejected at t=0 for 30 s; returns at 30 s; fails again at 50 s → times 2, 60 s;
 * returns at 110 s; fails again at 200 s → 90 s un-ejected = 3 bases, times 2 → 0, so
 * this ejection is times 1 again, 30 s. Errors that do not eject do not stop the decay.
 *
 * The cap, `maxEjectionFraction` f over a pool of n endpoints: at most `floor(f × n)`
 * endpoints are ejected at once, but at least one when n ≥ 2 and f > 0 (Envoy ejects
 * while (ejected + 1) / n ≤ f and, since 1.26, always allows the first). A pool of one
 * endpoint is never ejected: there is nowhere else to send its traffic. f = 0 turns
 * ejection off. Examples: n=3, f=0.5 → 1; n=4, f=0.5 → 2; n=5, f=0.1 → 1; n=10, f=1 → 10.
 *
 * The detector is passive and pure: it reads the injected clock on every call. Returns
 * are noticed (and `onReturn` fires) on the next call; to get them on time call `sweep()`
 * at `nextReturnAt()` from a timer.
 */
export type EndpointOutcome = 'success' | '5xx' | 'gateway_error' | 'connect_failure' | 'reset' | 'timeout';
export type EjectReason = 'consecutive_errors' | 'consecutive_gateway_errors';

export interface EjectEvent { id: string; untilMs: number; times: number; reason: EjectReason }
export interface ReturnEvent { id: string }
export interface SkipEvent { id: string; reason: EjectReason; ejected: number; poolSize: number }

export interface OutlierDetectorOptions {
  consecutiveErrors: number;
  consecutiveGatewayErrors?: number;
  baseEjectionMs: number;
  /** Longest single ejection; default max(300_000, baseEjectionMs). */
  maxEjectionMs?: number;
  maxEjectionFraction: number;
  now?: () => number;
  onEject?: (e: EjectEvent) => void;
  onReturn?: (e: ReturnEvent) => void;
  /** A threshold was reached but the cap refused the ejection. */
  onSkip?: (e: SkipEvent) => void;
}

interface EndpointState {
  errors: number;
  gatewayErrors: number;
  times: number;
  ejectedUntil: number | undefined;
  /** Start of the current un-ejected stretch that has not yet been credited to decay. */
  healthySince: number;
}

/** How many endpoints of a pool of `poolSize` may be ejected at once (see the file comment). */
export function maxEjected(poolSize: number, fraction: number): number {
  if (poolSize < 2 || !(fraction > 0)) return 0;
  return Math.max(1, Math.floor(fraction * poolSize + 1e-9));
}

export class OutlierDetector {
  readonly #opts: OutlierDetectorOptions;
  readonly #now: () => number;
  readonly #maxEjectionMs: number;
  readonly #states = new Map<string, EndpointState>();
  #explicitPool = false;

  constructor(opts: OutlierDetectorOptions) {
    if (!(opts.consecutiveErrors >= 1) || !(opts.baseEjectionMs > 0)) {
      throw new RangeError('OutlierDetector needs consecutiveErrors >= 1 and baseEjectionMs > 0');
    }
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#maxEjectionMs = opts.maxEjectionMs ?? Math.max(300_000, opts.baseEjectionMs);
  }

  /**
   * Sets the pool's members. Endpoints no longer listed are forgotten; once this has been
   * called, outcomes for ids outside the pool are ignored (before, they join it).
   */
  setPoolSize(ids: readonly string[]): void {
    this.#explicitPool = true;
    const keep = new Set(ids);
    for (const id of [...this.#states.keys()]) if (!keep.has(id)) this.#states.delete(id);
    for (const id of ids) if (!this.#states.has(id)) this.#states.set(id, this.#fresh());
  }

  record(id: string, outcome: EndpointOutcome): void {
    this.sweep();
    const s = this.#state(id);
    if (!s || s.ejectedUntil !== undefined) return;
    if (outcome === 'success') {
      s.errors = 0;
      s.gatewayErrors = 0;
      return;
    }
    s.errors += 1;
    s.gatewayErrors = outcome === '5xx' ? 0 : s.gatewayErrors + 1;
    const gwLimit = this.#opts.consecutiveGatewayErrors;
    if (gwLimit !== undefined && s.gatewayErrors >= gwLimit) this.#tryEject(id, s, 'consecutive_gateway_errors');
    else if (s.errors >= this.#opts.consecutiveErrors) this.#tryEject(id, s, 'consecutive_errors');
  }

  isEjected(id: string): boolean {
    this.sweep();
    return this.#states.get(id)?.ejectedUntil !== undefined;
  }

  /** When the ejection of `id` ends (ms on the injected clock), or undefined if serving. */
  ejectedUntil(id: string): number | undefined {
    this.sweep();
    return this.#states.get(id)?.ejectedUntil;
  }

  /** The ejection multiplier an endpoint carries now, after decay (0 = clean record). */
  ejectionTimes(id: string): number {
    this.sweep();
    const s = this.#states.get(id);
    if (!s) return 0;
    this.#decay(s, this.#now());
    return s.times;
  }

  ejectedCount(): number {
    this.sweep();
    let n = 0;
    for (const s of this.#states.values()) if (s.ejectedUntil !== undefined) n++;
    return n;
  }

  /** The earliest time an ejected endpoint returns, for scheduling `sweep()`. */
  nextReturnAt(): number | undefined {
    let next: number | undefined;
    for (const s of this.#states.values()) {
      if (s.ejectedUntil !== undefined && (next === undefined || s.ejectedUntil < next)) next = s.ejectedUntil;
    }
    return next;
  }

  /** Returns every endpoint whose ejection has ended; fires `onReturn` for each. */
  sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#states) {
      if (s.ejectedUntil === undefined || s.ejectedUntil > now) continue;
      s.healthySince = s.ejectedUntil;
      s.ejectedUntil = undefined;
      this.#opts.onReturn?.({ id });
    }
  }

  #fresh(): EndpointState {
    return { errors: 0, gatewayErrors: 0, times: 0, ejectedUntil: undefined, healthySince: this.#now() };
  }

  #state(id: string): EndpointState | undefined {
    let s = this.#states.get(id);
    if (!s && !this.#explicitPool) {
      s = this.#fresh();
      this.#states.set(id, s);
    }
    return s;
  }

  #decay(s: EndpointState, now: number): void {
    if (s.ejectedUntil !== undefined) return;
    const base = this.#opts.baseEjectionMs;
    const periods = Math.floor((now - s.healthySince) / base);
    if (periods <= 0) return;
    s.times = Math.max(0, s.times - periods);
    s.healthySince += periods * base;
  }

  #tryEject(id: string, s: EndpointState, reason: EjectReason): void {
    s.errors = 0;
    s.gatewayErrors = 0;
    let ejected = 0;
    for (const other of this.#states.values()) if (other.ejectedUntil !== undefined) ejected++;
    const poolSize = this.#states.size;
    if (ejected + 1 > maxEjected(poolSize, this.#opts.maxEjectionFraction)) {
      this.#opts.onSkip?.({ id, reason, ejected, poolSize });
      return;
    }
    const now = this.#now();
    this.#decay(s, now);
    // Like Envoy, the multiplier stops growing once the cap is reached, so decay stays short.
    s.times = Math.min(s.times + 1, Math.ceil(this.#maxEjectionMs / this.#opts.baseEjectionMs));
    const untilMs = now + Math.min(this.#opts.baseEjectionMs * s.times, this.#maxEjectionMs);
    s.ejectedUntil = untilMs;
    this.#opts.onEject?.({ id, untilMs, times: s.times, reason });
  }
}
