import type { Graded } from './types.js';
import type { ZoneMeasurement } from './zone-types.js';

/** What taking a whole region out showed: its services, its database, end to end. Times in ms from the region's fault. */
export interface RegionMeasurement {
  region: string;
  drRegion: string;
  /** One per service with endpoints in the region (their `zone` is the region's name). */
  services: ZoneMeasurement[];
  database?: string;
  /** failover: a member in the DR region promoted; restore: the latest backup restored into a sandbox there (no member in the DR region); none: no database in the region. */
  databaseRecovery: 'failover' | 'restore' | 'none';
  /** The member that leads after the failover, and its region. */
  promoted?: { member: string; region?: string };
  /**
   * detection (the leader key left the old primary), promotion (the new leader writable), firstWrite (the writer's first
   * acknowledgement there), restore (the fallback's fetch + restore + start + validate), traffic (the slowest service served from the DR region).
   */
  phasesMs: { detection?: number; promotion?: number; firstWrite?: number; restore?: number; traffic?: number };
  /** The fault → every service served from the DR region and the database writable there (the later of the two). */
  rto?: Graded;
  /** Acknowledged writes lost, as time (failover), or the restore point's age (restore). */
  rpo?: Graded;
  lostWrites?: number;
  failback: { services: boolean; database?: string; databaseMs?: number };
  problems: string[];
  passed: boolean;
}
