import type { EndpointState, FailoverSettings, Tier, TierLevel } from './types.js';

/**
 * Tier of an endpoint: backups are tier 3; without `primary_zones` every other
 * endpoint is tier 1; with it, endpoints in those zones are tier 1 and all others
 * (including endpoints without a zone) tier 2.
 */
export function tierOf(endpoint: Pick<EndpointState, 'backup' | 'zone'>, primaryZones: readonly string[] | undefined): Tier {
  if (endpoint.backup) return 3;
  if (primaryZones === undefined) return 1;
  return endpoint.zone !== undefined && primaryZones.includes(endpoint.zone) ? 1 : 2;
}

export function isEjected(endpoint: EndpointState, now: number): boolean {
  return endpoint.ejectedUntil !== undefined && now < endpoint.ejectedUntil;
}

/**
 * Whether an endpoint may take new requests, ignoring tiers and weight.
 *
 * `unknown` health (not probed yet) counts as up only while no endpoint of the
 * same tier is known up: at start the gateway serves at once, as HAProxy does by
 * starting servers up; once probing is live, an unverified endpoint (added by a
 * reload, or whose address changed) waits for its first passing check. The scope
 * is the tier, not the pool, so a backup that happens to answer first cannot pull
 * traffic away from primaries that have not been probed yet.
 */
export function isRoutable(endpoint: EndpointState, now: number, tierHasUp: boolean): boolean {
  if (endpoint.admin !== 'enabled' || isEjected(endpoint, now)) return false;
  return endpoint.health === 'up' || (endpoint.health === 'unknown' && !tierHasUp);
}

/** Routable and weight > 0: takes new traffic when its tier is active. */
export function isEligible(endpoint: EndpointState, now: number, tierHasUp: boolean): boolean {
  return endpoint.weight > 0 && isRoutable(endpoint, now, tierHasUp);
}

export interface TierView {
  tiers: Record<Tier, EndpointState[]>;
  eligible: Record<Tier, EndpointState[]>;
  /** Routable regardless of weight (sticky sessions survive weight 0, as in HAProxy). */
  routable: Set<string>;
  /**
   * Endpoints per tier that count toward min_healthy_share: all of them, less
   * those still waiting for a first check in a tier where probing is live, so
   * that probes answering one by one at start do not cause a spillover.
   */
  counted: Record<Tier, number>;
}

export function viewTiers(endpoints: readonly EndpointState[], settings: FailoverSettings, now: number): TierView {
  const tiers: Record<Tier, EndpointState[]> = { 1: [], 2: [], 3: [] };
  for (const e of endpoints) tiers[tierOf(e, settings.primaryZones)].push(e);
  const eligible: Record<Tier, EndpointState[]> = { 1: [], 2: [], 3: [] };
  const routable = new Set<string>();
  const counted: Record<Tier, number> = { 1: 0, 2: 0, 3: 0 };
  for (const tier of [1, 2, 3] as const) {
    const hasUp = tiers[tier].some((e) => e.health === 'up');
    counted[tier] = hasUp ? tiers[tier].filter((e) => e.health !== 'unknown').length : tiers[tier].length;
    for (const e of tiers[tier]) {
      if (!isRoutable(e, now, hasUp)) continue;
      routable.add(e.id);
      if (e.weight > 0) eligible[tier].push(e);
    }
  }
  return { tiers, eligible, routable, counted };
}

export interface LevelDecision {
  level: TierLevel;
  reason: string;
}

const pct = (share: number): string => `${Math.round(share * 1000) / 10}%`;

/** The level traffic should be at given current eligibility alone (failback allowed). */
export function naturalLevel(view: TierView, settings: FailoverSettings): LevelDecision {
  const e1 = view.eligible[1].length;
  const e2 = view.eligible[2].length;
  const t1 = view.counted[1];
  const min = settings.minHealthyShare;
  if (e1 > 0 && (min === undefined || e1 / t1 >= min)) {
    return { level: 'primary', reason: `primary tier healthy: ${e1}/${t1} endpoints eligible` };
  }
  if (e1 + e2 > 0) {
    if (e2 === 0) {
      return { level: 'primary', reason: `primary tier degraded (${e1}/${t1} eligible) and no secondary endpoint to spill over to` };
    }
    const why = e1 === 0
      ? 'no eligible endpoint in the primary tier'
      : `primary tier below min_healthy_share: ${e1}/${t1} eligible < ${pct(min ?? 0)}`;
    return { level: 'spillover', reason: `${why}; spilling over to ${e2} secondary endpoint(s)` };
  }
  if (view.eligible[3].length > 0) {
    return { level: 'backup', reason: `no eligible non-backup endpoint; using ${view.eligible[3].length} backup endpoint(s)` };
  }
  return { level: 'none', reason: 'no eligible endpoint in any tier' };
}

const RANK: Record<TierLevel, number> = { primary: 0, spillover: 1, backup: 2, none: 3 };

export function rankOf(level: TierLevel): number {
  return RANK[level];
}

/** Endpoints that take new traffic at a level. */
export function candidatesAt(view: TierView, level: TierLevel): EndpointState[] {
  switch (level) {
    case 'primary': return view.eligible[1];
    case 'spillover': return [...view.eligible[1], ...view.eligible[2]];
    case 'backup': return view.eligible[3];
    case 'none': return [];
  }
}

/** Tiers active at a level (used for sticky sessions, which ignore weight). */
export function tiersAt(level: TierLevel): readonly Tier[] {
  switch (level) {
    case 'primary': return [1];
    case 'spillover': return [1, 2];
    case 'backup': return [3];
    case 'none': return [];
  }
}
