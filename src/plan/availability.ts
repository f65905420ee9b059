import { parallel, series } from './compose.js';
import type { ResolvedMember, ResolvedTopology } from './domains.js';
import type { ModelledAvailability } from './report.js';

/** Up to this many uncertain zones + regions + shared hosts, availability is computed exactly (2^n states). */
export const MAX_EXACT_DOMAINS = 16;

interface MaskedMember {
  availability: number;
  mask: number;
}

/**
 * Availability of `closure[0]` alone and together with the rest of `closure`
 * (its transitive dependencies). Members that share a zone, region or host fail
 * together, so the naive product is wrong: we enumerate every up/down state of
 * the shared domains; given a state, members are independent, and so are the
 * components (they have disjoint members), which makes the series product
 * exact inside each state. Counting each dependency once (a closure, not a
 * recursive product) keeps diamonds and cycles exact too.
 */
export function modelAvailability(
  closure: readonly string[],
  resolved: ResolvedTopology,
  maxExact = MAX_EXACT_DOMAINS,
): ModelledAvailability {
  const groups = closure.map((c) => resolved.members.get(c) ?? []);
  const domainIds = distinctDomains(groups);
  if (domainIds.length <= maxExact) {
    const { own, endToEnd } = enumerateStates(groups, domainIds, resolved.domainAvailability);
    return { own, endToEnd, approximate: false, domains: domainIds.length };
  }
  // Too many domains: keep each component exact on its own where we can and
  // treat components as independent of each other.
  const owns = groups.map((g) => ownAvailability(g, resolved.domainAvailability, maxExact));
  return { own: owns[0] ?? 0, endToEnd: series(owns), approximate: true, domains: domainIds.length };
}

function ownAvailability(group: ResolvedMember[], avail: Map<string, number>, maxExact: number): number {
  const domainIds = distinctDomains([group]);
  if (domainIds.length <= maxExact) return enumerateStates([group], domainIds, avail).own;
  return parallel(group.map((m) => m.availability * series(m.domains.map((d) => avail.get(d) ?? 1))));
}

function distinctDomains(groups: ResolvedMember[][]): string[] {
  return [...new Set(groups.flatMap((g) => g.flatMap((m) => m.domains)))].sort();
}

function enumerateStates(
  groups: ResolvedMember[][],
  domainIds: string[],
  avail: Map<string, number>,
): { own: number; endToEnd: number } {
  const bit = new Map(domainIds.map((id, i) => [id, 1 << i]));
  const masked: MaskedMember[][] = groups.map((g) =>
    g.map((m) => ({ availability: m.availability, mask: m.domains.reduce((acc, d) => acc | (bit.get(d) ?? 0), 0) })),
  );
  const probs = domainIds.map((id) => avail.get(id) ?? 1);
  // Sum unavailability, not availability: with many nines the tiny down terms
  // keep their precision, where 65,536 terms near 1 would lose it.
  let ownDown = 0;
  let endToEndDown = 0;
  for (let state = 0; state < 1 << domainIds.length; state++) {
    const p = stateProbability(state, probs);
    if (p === 0) continue;
    const downs = masked.map((g) =>
      g.reduce((acc, m) => acc * ((state & m.mask) === m.mask ? 1 - m.availability : 1), 1),
    );
    ownDown += p * (downs[0] ?? 1);
    endToEndDown += p * -Math.expm1(downs.reduce((acc, d) => acc + Math.log1p(-d), 0));
  }
  return { own: 1 - ownDown, endToEnd: 1 - endToEndDown };
}

/** Bit i of `state` set means domain i is up. */
function stateProbability(state: number, probs: number[]): number {
  let p = 1;
  probs.forEach((a, i) => {
    p *= state & (1 << i) ? a : 1 - a;
  });
  return p;
}
