import { z } from 'zod';
import { duration, httpUrl, percent, positiveInt } from './fields.js';

/** The synthetic traffic a zone drill sends through the gateway. */
const traffic = z.strictObject({
  /** Where to send it; by default the service's `listen` address (the gateway). */
  url: httpUrl().optional(),
  path: z.string().startsWith('/', { message: 'expected a path starting with "/"' }).default('/'),
  /** Requests per second. */
  rate: z.number().positive().max(2000).default(20),
  /** A request not answered within this counts as failed. */
  timeout: duration().default(2_000),
});

/** Abort and revert when the traffic's error rate (or burn rate) over `window` passes its bound. */
const stopCondition = z.strictObject({
  error_rate: percent().optional(),
  /** Error rate over the tier's error budget (1 − availability). */
  burn_rate: z.number().positive().optional(),
  window: duration().default(5_000),
  min_requests: positiveInt().default(10),
}).refine((s) => s.error_rate !== undefined || s.burn_rate !== undefined, { message: 'a stop_condition needs error_rate or burn_rate' });

/** The keys of zone drills (type: zone), spread into a dr_testing entry. */
export const zoneDrillFields = {
  /** How the zone's endpoints are taken out: SIGKILL, SIGSTOP, or disabled in the gateway. */
  method: z.enum(['kill', 'stop', 'disable']).optional(),
  /** After a kill: start the same command line again (`respawn`), or wait for a supervisor to (`supervisor`). */
  restart: z.enum(['respawn', 'supervisor']).optional(),
  /** How long the zone stays out before failback. */
  fault_duration: duration().optional(),
  traffic: traffic.optional(),
  stop_condition: stopCondition.optional(),
  /** The drill fails when more requests fail than this; 0 by default. */
  max_failed_requests: z.number().int().min(0).optional(),
};
