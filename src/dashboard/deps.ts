import type { Logger } from '../core/logger.js';
import type { BulwarkConfig } from '../config/index.js';
import type { Store } from '../store/index.js';
import type { ProbeEngine, ProbeEvents } from '../probes/index.js';
import type { SloReporter } from '../slo/index.js';
import type { IncidentActions } from '../alerting/index.js';
import type { BackupAdmin, DatabaseAdmin, FailureThrottle, GatewayAdmin } from '../api/index.js';

/** Where the dashboard hears of status changes (the daemon's event bus). */
export interface StatusEvents {
  on<K extends 'owner.state' | 'target.state'>(event: K, listener: (payload: ProbeEvents[K]) => void): () => void;
}

/** A planned handover of a PostgreSQL database, as `bulwark db switchover` requests it; resolves once requested. */
export type Switchover = (database: string, to: string | undefined, actor: string) => Promise<{ from: string; to: string | undefined }>;

/** What the dashboard needs from the running daemon: the same subsystems the API routes use. */
export interface DashboardDeps {
  /** Tokens (sign-in), events (the log and the gateway's audit), backup runs, probe rollups (charts). */
  store: Store;
  log: Logger;
  config(): BulwarkConfig;
  probes: Pick<ProbeEngine, 'targetViews' | 'ownerViews' | 'vantage'>;
  slo: Pick<SloReporter, 'owners'>;
  gateway: GatewayAdmin;
  backups: BackupAdmin;
  databases: DatabaseAdmin;
  incidents: IncidentActions;
  bus: StatusEvents;
  /** Shared with the API's token guard, so refused tokens and refused sign-ins count together. */
  throttle: FailureThrottle;
  /** Absent: the Databases page shows no switchover form. */
  switchover?: Switchover;
  /** Aborted when the daemon begins to stop: open live streams end, so the API's drain does not wait on them. */
  stopping?: AbortSignal;
  now?: () => number;
}
