import type { BulwarkConfig } from '../config/index.js';
import type { AlertingStore, Store } from '../store/index.js';

/** Statuspage's vocabulary, so that its clients read ours. */
export type ComponentStatus = 'operational' | 'degraded_performance' | 'partial_outage' | 'major_outage' | 'under_maintenance';

/** Statuspage's page indicator. */
export type Indicator = 'none' | 'minor' | 'major' | 'critical' | 'maintenance';

export type OwnerKind = 'service' | 'database';
export type ProbeStatus = 'unknown' | 'up' | 'down';

/** What the status page reads of the probes: the engine's owner and target views. */
export interface StatusProbeViews {
  ownerViews(): Array<{ kind: OwnerKind; name: string; status: ProbeStatus }>;
  targetViews(): Array<{ owner: { kind: OwnerKind; name: string }; backup: boolean; status: ProbeStatus }>;
}

/** What it reads of the store: state changes (the SLO history) and alerting's incidents. */
export type StatusStore = Pick<Store, 'stateChanges'> & {
  readonly alerting: Pick<AlertingStore, 'openIncidents' | 'listIncidents' | 'incidentEvents' | 'incident'>;
};

export type StatusPageConfig = NonNullable<BulwarkConfig['status_page']>;

export interface ComponentRef {
  kind: OwnerKind;
  name: string;
}

/** One day of a component's uptime bar; `availability` null when nothing was observed that day. */
export interface DayFigure {
  /** UTC midnight that opens the day. */
  start: number;
  availability: number | null;
  downMs: number;
  maintenanceMs: number;
}

export interface ComponentView extends ComponentRef {
  /** Stable across restarts: `service-api`, `database-main-db`. */
  id: string;
  status: ComponentStatus;
  group: string;
  days: DayFigure[];
  /** Over the whole history; null without any observation. */
  uptime: number | null;
}

export interface GroupView {
  id: string;
  name: string;
  components: ComponentView[];
}

export type PublicIncidentStatus = 'investigating' | 'identified' | 'monitoring' | 'resolved';
export type Impact = 'none' | 'minor' | 'major' | 'critical';

export interface PublicUpdate {
  status: PublicIncidentStatus;
  body: string;
  at: number;
}

/** An incident as the public sees it: no rule, host, URL or error text; only what is listed here. */
export interface PublicIncident {
  id: number;
  name: string;
  status: PublicIncidentStatus;
  impact: Impact;
  components: string[];
  createdAt: number;
  updatedAt: number;
  resolvedAt: number | null;
  /** Newest first. */
  updates: PublicUpdate[];
}

export interface ScheduledMaintenance {
  name: string;
  components: string[];
  start: number;
  end: number;
  status: 'scheduled' | 'in_progress';
}

export interface OverallStatus {
  indicator: Indicator;
  description: string;
}

/** Everything a page or a JSON answer shows, computed once and shared until it is stale. */
export interface StatusSnapshot {
  title: string;
  description: string | null;
  publicUrl: string | null;
  historyDays: number;
  at: number;
  overall: OverallStatus;
  groups: GroupView[];
  components: ComponentView[];
  /** Open incidents, newest first. */
  active: PublicIncident[];
  /** Every public incident kept (open and resolved), newest first. */
  incidents: PublicIncident[];
  maintenance: ScheduledMaintenance[];
}
