import type { CheckResult } from './types.js';

/**
 * Health of one target from one vantage point, HAProxy-style: `fall`
 * consecutive failures mark it down, `rise` consecutive successes mark it up.
 * A target starts `unknown`: neither routed away from nor counted as down.
 */
export type HealthStatus = 'unknown' | 'up' | 'down';

export interface ProbeState {
  status: HealthStatus;
  consecutiveOk: number;
  consecutiveFail: number;
  /** When `status` last changed (ms since epoch). */
  since: number;
  lastCheckAt?: number;
  lastResult?: Pick<CheckResult, 'ok' | 'reason' | 'message' | 'durationMs'>;
}

export interface Thresholds {
  rise: number;
  fall: number;
}

export function initialState(now: number): ProbeState {
  return { status: 'unknown', consecutiveOk: 0, consecutiveFail: 0, since: now };
}

/**
 * Apply one result. During the start-up grace period failures are not counted
 * (a target that is still booting is not "down"), successes are.
 */
export function applyResult(
  state: ProbeState,
  result: CheckResult,
  thresholds: Thresholds,
  now: number,
  inGrace = false,
): { state: ProbeState; changed: boolean } {
  const consecutiveOk = result.ok ? state.consecutiveOk + 1 : 0;
  const consecutiveFail = result.ok ? 0 : inGrace ? state.consecutiveFail : state.consecutiveFail + 1;
  let status = state.status;
  if (result.ok && status !== 'up' && consecutiveOk >= thresholds.rise) status = 'up';
  if (!result.ok && status !== 'down' && consecutiveFail >= thresholds.fall) status = 'down';
  const changed = status !== state.status;
  const lastResult = { ok: result.ok, reason: result.reason, message: result.message, durationMs: result.durationMs };
  return {
    state: { status, consecutiveOk, consecutiveFail, since: changed ? now : state.since, lastCheckAt: now, lastResult },
    changed,
  };
}
