/**
 * A sliding-window event counter in fixed buckets, so memory stays constant at any
 * request rate (the retry budget and the limiter's completion rate both count events
 * per window at tens of thousands per second).
 *
 * The window is split into `buckets` equal slots; `count()` sums the slots that started
 * less than `windowMs` ago. The edge is therefore exact to one slot (1 s by default for
 * a 10 s window): an event can stay counted up to one slot longer than `windowMs`.
 */
export class WindowCounter {
  readonly #slotMs: number;
  readonly #counts: number[];
  readonly #starts: number[];
  readonly #now: () => number;

  constructor(opts: { windowMs: number; buckets?: number; now?: () => number }) {
    const buckets = opts.buckets ?? 10;
    if (!(opts.windowMs > 0) || !Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError('WindowCounter needs windowMs > 0 and an integer buckets >= 1');
    }
    this.#slotMs = opts.windowMs / buckets;
    this.#counts = new Array<number>(buckets).fill(0);
    this.#starts = new Array<number>(buckets).fill(Number.NEGATIVE_INFINITY);
    this.#now = opts.now ?? Date.now;
  }

  /** Counts `n` events now. */
  add(n = 1): void {
    const start = Math.floor(this.#now() / this.#slotMs) * this.#slotMs;
    const i = Math.floor(start / this.#slotMs) % this.#counts.length;
    if (this.#starts[i] !== start) {
      this.#starts[i] = start;
      this.#counts[i] = 0;
    }
    this.#counts[i] = (this.#counts[i] ?? 0) + n;
  }

  /** Events in the slots that started within the window. */
  count(): number {
    const current = Math.floor(this.#now() / this.#slotMs) * this.#slotMs;
    const oldest = current - (this.#counts.length - 1) * this.#slotMs;
    let total = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      if ((this.#starts[i] ?? Number.NEGATIVE_INFINITY) >= oldest) total += this.#counts[i] ?? 0;
    }
    return total;
  }

  get windowMs(): number {
    return this.#slotMs * this.#counts.length;
  }
}
