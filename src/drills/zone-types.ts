import type { DrillTarget, Graded } from './types.js';

/** What taking a zone out under synthetic traffic showed. */
export interface ZoneMeasurement {
  service: string;
  zone: string;
  method: 'kill' | 'stop' | 'disable';
  /** The tier graded against: the drill's tier, else the service's. */
  target: DrillTarget;
  /** The zone's endpoints taken out, and the endpoints left to serve. */
  endpoints: string[];
  remaining: string[];
  requests: {
    sent: number;
    failed: number;
    /** The bound: more failed requests fail the drill. */
    maxFailed: number;
    /** Failed, by status or error (`502`, `timeout`, `ECONNREFUSED`). */
    failedBy: Record<string, number>;
    ratePerSecond: number;
  };
  /** From the zone taken out until the remaining zones serve (no failure after), graded against the tier's RTO. */
  failover?: Graded;
  /** From the start of failback until every endpoint of the zone answers again. */
  failback?: { revertMs: number; servingMs?: number };
  /** The stop condition, when it ended the drill: what passed its bound, and breach → every fault reverted. */
  stop?: { reason: string; breachToRevertMs: number; reverted: boolean };
  problems: string[];
  passed: boolean;
}
