import { candidatesAt, naturalLevel, rankOf, type LevelDecision, type TierView } from './tiers.js';
import type { FailoverSettings, TierChange, TierLevel } from './types.js';

export type TierChangeListener = (change: TierChange) => void;

/**
 * Which tier set takes traffic, and when it changed. With failback allowed the
 * level follows eligibility. With `failback: false` the worst level reached is
 * held until `reset()`; if the held tier has nothing eligible left, traffic goes
 * where it can and the hold moves there (holding on to an empty tier would only
 * black-hole requests).
 */
export class FailoverTracker {
  #level: TierLevel;
  #held: TierLevel;
  #failback: boolean;
  readonly #listener: TierChangeListener | undefined;

  constructor(view: TierView, settings: FailoverSettings, listener?: TierChangeListener) {
    const initial = naturalLevel(view, settings);
    this.#level = initial.level;
    this.#held = initial.level === 'none' ? 'primary' : initial.level;
    this.#failback = settings.failback ?? true;
    this.#listener = listener;
  }

  get level(): TierLevel {
    return this.#level;
  }

  /** The level traffic is held at (`failback: false` only). */
  get held(): TierLevel | undefined {
    return this.#failback ? undefined : this.#held;
  }

  configure(settings: FailoverSettings): void {
    this.#failback = settings.failback ?? true;
  }

  /** Recompute the level from the current view; reports a change once. */
  evaluate(view: TierView, settings: FailoverSettings, now: number, reasonPrefix = ''): TierLevel {
    const decision = this.#decide(view, settings);
    if (decision.level !== this.#level) {
      const from = this.#level;
      this.#level = decision.level;
      const direction = rankOf(decision.level) > rankOf(from) ? 'failover' : 'failback';
      this.#emit({ from, to: decision.level, direction, reason: reasonPrefix + decision.reason, at: now });
    }
    return this.#level;
  }

  /** Operator reset (`failback: false`): release the hold and follow eligibility again. */
  reset(view: TierView, settings: FailoverSettings, now: number): TierLevel {
    const natural = naturalLevel(view, settings).level;
    this.#held = natural === 'none' ? 'primary' : natural;
    return this.evaluate(view, settings, now, 'operator reset: ');
  }

  #decide(view: TierView, settings: FailoverSettings): LevelDecision {
    const natural = naturalLevel(view, settings);
    if (this.#failback) return natural;
    if (natural.level !== 'none' && rankOf(natural.level) > rankOf(this.#held)) this.#held = natural.level;
    if (rankOf(this.#held) <= rankOf(natural.level)) return natural;
    if (candidatesAt(view, this.#held).length === 0) {
      this.#held = natural.level;
      return natural;
    }
    return { level: this.#held, reason: `failback disabled: holding ${this.#held} until an operator resets failover (${natural.reason})` };
  }

  #emit(change: TierChange): void {
    if (!this.#listener) return;
    try {
      this.#listener(change);
    } catch {
      // A listener's failure (logging, metrics) must never fail routing; the
      // listener owns its own error handling.
    }
  }
}
