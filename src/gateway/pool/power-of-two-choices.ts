import { compareLoad } from './least-connections.js';
import type { EndpointState, Picker, PickerContext } from './types.js';

/**
 * Power of two choices (Envoy's least_request default): two distinct random
 * candidates, the one with fewer in-flight requests relative to weight wins
 * (the first drawn on ties). Near least-connections quality at O(1), and no
 * herd on the single least-loaded endpoint when several gateways share a pool.
 */
export class PowerOfTwoChoicesPicker implements Picker {
  pick(candidates: readonly EndpointState[], ctx: PickerContext): EndpointState | undefined {
    const usable = candidates.filter((c) => c.weight > 0);
    if (usable.length <= 1) return usable[0];
    const i = index(ctx.random(), usable.length);
    let j = index(ctx.random(), usable.length - 1);
    if (j >= i) j += 1;
    const a = usable[i] as EndpointState;
    const b = usable[j] as EndpointState;
    return compareLoad(b, a) < 0 ? b : a;
  }
}

function index(random: number, length: number): number {
  return Math.min(length - 1, Math.max(0, Math.floor(random * length)));
}
