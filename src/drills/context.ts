import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import type { RevertJournal } from './journal.js';
import type { Timeline } from './timeline.js';

/** A gateway a zone drill may steer (method: disable): the daemon's, or a test's. Endpoint names as in `bulwark gateway pools`. */
export interface DrillGateway { setAdminState(service: string, endpoint: string, state: 'enabled' | 'disabled'): Promise<void> }

/** What restoring one policy needs from the drill around it. */
export interface RestoreContext {
  config: BulwarkConfig;
  drill: DrillConfig;
  journal: RevertJournal;
  timeline: Timeline;
  /** Where sandboxes are made; each gets its own directory below. */
  sandboxRoot: string;
  runId: string;
  /** When the drill began: restore points are aged from here. */
  startedAt: number;
  signal?: AbortSignal;
  /**
   * PostgreSQL's restore_command for a policy's WAL from one repository. The
   * CLI provides it (it is `bulwark backup wal restore ...`, this very program).
   */
  walRestoreCommand?: (policy: string, repository: string) => string;
  /** Zone drills with method: disable. */
  gateway?: DrillGateway;
}
