import type { EndpointState, Picker } from './types.js';

/** a.active/a.weight compared with b.active/b.weight, without floating point. */
export function compareLoad(a: EndpointState, b: EndpointState): number {
  return a.active * b.weight - b.active * a.weight;
}

/**
 * Fewest in-flight requests relative to weight (active/weight); ties are broken
 * round-robin so equal endpoints share traffic instead of the first one taking it all.
 */
export class LeastConnectionsPicker implements Picker {
  #next = 0;

  pick(candidates: readonly EndpointState[]): EndpointState | undefined {
    let tied: EndpointState[] = [];
    for (const c of candidates) {
      if (c.weight <= 0) continue;
      const first = tied[0];
      const cmp = first === undefined ? -1 : compareLoad(c, first);
      if (cmp < 0) tied = [c];
      else if (cmp === 0) tied.push(c);
    }
    if (tied.length === 0) return undefined;
    const chosen = tied[this.#next % tied.length];
    this.#next = (this.#next + 1) % Number.MAX_SAFE_INTEGER;
    return chosen;
  }
}
