import { databaseHealthCheck, serviceHealthCheck, type BulwarkConfig } from '../config/index.js';

const MIN_RECONCILE_MS = 60_000;

/**
 * How long after a start the engine waits before it takes an open incident's
 * alerts that no source has reported as cleared: at least a minute, and long
 * enough for the slowest probe to decide "down" again from "unknown" (its
 * grace period, then `fall` failed checks). Sooner, a restart would resolve an
 * outage still under way and page it again as a new incident moments later.
 */
export function reconcileDelayMs(config: BulwarkConfig): number {
  const services = Object.values(config.services).map((s) => {
    const hc = serviceHealthCheck(s);
    return hc.grace_period + hc.fall * hc.interval + hc.timeout;
  });
  const databases = Object.values(config.databases).map((d) => {
    const hc = databaseHealthCheck(d);
    return hc.fall * hc.interval + hc.timeout;
  });
  return Math.max(MIN_RECONCILE_MS, ...services, ...databases);
}
