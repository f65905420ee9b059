/** How a drill ended: graded pass or fail, or stopped before it could be graded (error, crash, timeout). */
export type DrillOutcome = 'passed' | 'failed' | 'aborted';

export interface DrillRunRecord {
  /** A UUID chosen when the drill starts (the revert journal carries it). */
  id: string;
  drill: string;
  type: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  finishedAt: number;
  outcome: DrillOutcome;
  /** The figures graded: RTO, RPO, their targets; the drills room owns the shape. */
  measured: unknown;
  /** The whole report: timeline, validation, issues, recommendations. */
  report: unknown;
}

export interface DrillRunsQuery {
  drill?: string;
  /** Clamped to 1..1000. */
  limit: number;
}

export interface DrillRunsStore {
  /** Throws BAD_REQUEST when a run with this id is already recorded. */
  record(run: DrillRunRecord): Promise<void>;
  /** Newest first (by start time). */
  list(query: DrillRunsQuery): Promise<DrillRunRecord[]>;
  /** A run by its id or a unique prefix of it; null when none or several match. */
  get(idOrPrefix: string): Promise<DrillRunRecord | null>;
}
