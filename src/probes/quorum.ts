import type { HealthStatus } from './state.js';

export interface VantageView {
  vantage: string;
  status: HealthStatus;
  /** False when the vantage point has stopped reporting: its view is not counted. */
  reporting: boolean;
}

export interface QuorumDecision {
  status: HealthStatus;
  down: number;
  up: number;
  reporting: number;
  /** Why the status is what it is, for logs and `bulwark status`. */
  reason: string;
}

/**
 * A target is down only when at least `quorum` reporting vantage points see it
 * down, and up when enough see it up that it can no longer be down. A silent
 * vantage point is never counted as "down": losing agents must not fail a target over.
 * With fewer reporting vantage points than the quorum, the last status holds.
 */
export function decide(views: readonly VantageView[], quorum: number, previous: HealthStatus): QuorumDecision {
  const live = views.filter((v) => v.reporting);
  const down = live.filter((v) => v.status === 'down').length;
  const up = live.filter((v) => v.status === 'up').length;
  const base = { down, up, reporting: live.length };
  if (down >= quorum) return { ...base, status: 'down', reason: `${down} of ${live.length} vantage points see it down (quorum ${quorum})` };
  if (live.length < quorum) {
    return { ...base, status: previous, reason: `only ${live.length} vantage point(s) reporting, quorum is ${quorum}: keeping ${previous}` };
  }
  if (up > live.length - quorum) return { ...base, status: 'up', reason: `${up} of ${live.length} vantage points see it up` };
  return { ...base, status: previous === 'down' ? 'down' : up > 0 ? 'up' : previous, reason: `${down} down, ${up} up of ${live.length}: below quorum ${quorum}` };
}
