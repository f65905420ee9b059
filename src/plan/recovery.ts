import type { Component } from './model.js';
import type { RecoveryEstimate, TierTarget } from './report.js';

/** Time to route around a dead member: noticing it, then switching. Unknown without a detection time. */
export function estimateRecovery(c: Component, target: TierTarget | null): RecoveryEstimate {
  const estimatedRecoveryMs = c.detectionMs === undefined ? null : c.detectionMs + (c.failoverMs ?? 0);
  const rtoMs = target?.rtoMs ?? null;
  const meetsRto = estimatedRecoveryMs === null || rtoMs === null ? null : estimatedRecoveryMs <= rtoMs;
  return { detectionMs: c.detectionMs ?? null, estimatedRecoveryMs, rtoMs, meetsRto };
}
