import type { EndpointState, Picker } from './types.js';

/** Plain rotation over the candidates, ignoring weights (use `weighted` for canaries). */
export class RoundRobinPicker implements Picker {
  #next = 0;

  pick(candidates: readonly EndpointState[]): EndpointState | undefined {
    const usable = candidates.filter((c) => c.weight > 0);
    if (usable.length === 0) return undefined;
    const chosen = usable[this.#next % usable.length];
    this.#next = (this.#next + 1) % Number.MAX_SAFE_INTEGER;
    return chosen;
  }
}
