import type { EndpointState, Picker } from './types.js';

/**
 * Smooth weighted round robin, as nginx does it: every pick adds each
 * candidate's weight to its current weight, takes the highest (first on ties)
 * and subtracts the total from it. Deterministic, and spreads picks evenly:
 * weights 5:1:1 give a,a,b,a,c,a,a.
 */
export class WeightedPicker implements Picker {
  readonly #current = new Map<string, number>();

  pick(candidates: readonly EndpointState[]): EndpointState | undefined {
    let total = 0;
    let best: EndpointState | undefined;
    let bestWeight = 0;
    for (const c of candidates) {
      if (c.weight <= 0) continue;
      const current = (this.#current.get(c.id) ?? 0) + c.weight;
      this.#current.set(c.id, current);
      total += c.weight;
      if (best === undefined || current > bestWeight) {
        best = c;
        bestWeight = current;
      }
    }
    if (best !== undefined) this.#current.set(best.id, bestWeight - total);
    return best;
  }
}
