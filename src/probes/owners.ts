import type { HealthStatus } from './state.js';

/**
 * A service is up while any endpoint (backups included) can take traffic,
 * down when every endpoint is down, unknown otherwise: the gateway's view.
 */
export function ownerStatus(members: readonly HealthStatus[]): HealthStatus {
  if (members.some((s) => s === 'up')) return 'up';
  if (members.length > 0 && members.every((s) => s === 'down')) return 'down';
  return 'unknown';
}
