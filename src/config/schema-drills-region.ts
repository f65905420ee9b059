import { name } from './fields.js';

/**
 * The keys of region drills (type: full_dr_exercise), spread into a dr_testing
 * entry. They also take the zone drill's method, restart, fault_duration,
 * traffic, stop_condition and max_failed_requests, and the failover drill's
 * database, mode and to.
 */
export const regionDrillFields = {
  /** The primary region taken out: every endpoint of its zones, and its database primary. */
  region: name().optional(),
  /** Where traffic and the database must come back; by default the only other region with endpoints or members. */
  dr_region: name().optional(),
};
