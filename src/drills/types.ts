import type { DrillOutcome } from '../store/index.js';
import type { ZoneMeasurement } from './zone-types.js';

/** One step of a drill, as the timeline and the report show it. */
export interface TimelineStep {
  step: 'lock' | 'recover' | 'fetch' | 'restore' | 'start' | 'validate' | 'teardown' | 'grade'
    // zone drills
    | 'steady' | 'fault' | 'failover' | 'failback' | 'stop';
  /** What the step worked on: a policy, a directory. */
  subject?: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  durationMs: number;
  ok: boolean;
  detail?: string;
}

/** A figure against its target; `passed` and `marginMs` are absent when there is no target. */
export interface Graded {
  measuredMs: number;
  targetMs?: number;
  passed?: boolean;
  /** Target minus measured: positive is room to spare, negative is by how much it missed. */
  marginMs?: number;
}

/** The tier a drill is graded against. */
export interface DrillTarget { tier?: string; rtoMs?: number; rpoMs?: number }

/** What restoring one policy showed. */
export interface PolicyMeasurement {
  policy: string;
  source: 'paths' | 'postgres';
  repository: string;
  snapshot?: string;
  /** The newest point restored: the snapshot's time, or PostgreSQL's last replayed transaction. */
  restorePoint?: string;
  /** Restore (and for PostgreSQL, start and replay) plus validation. */
  rto?: Graded;
  /** The restore point's age when the drill began. */
  rpo?: Graded;
  phasesMs: Partial<Record<'fetch' | 'restore' | 'start' | 'validate' | 'teardown', number>>;
  files?: number;
  bytes?: number;
  /** Table (or query) → rows, for PostgreSQL. */
  rowCounts?: Record<string, number>;
  recoveredLsn?: string;
  /** What validation found wrong; empty when the restore is whole. */
  problems: string[];
  passed: boolean;
}

export interface DrillReport {
  id: string;
  drill: string;
  type: string;
  outcome: DrillOutcome;
  startedAt: number;
  finishedAt: number;
  target: DrillTarget;
  /** The plan's own words (scope, validation, rollback, …) as written in dr_testing. */
  notes: Record<string, string>;
  timeline: TimelineStep[];
  policies: PolicyMeasurement[];
  /** Zone drills: what taking the zone out showed. */
  zone?: ZoneMeasurement;
  issues: string[];
  recommendations: string[];
}

/** The measured figures stored beside the report (`drill_runs.measured`). */
export function measuredOf(report: DrillReport): Record<string, unknown> {
  return {
    target: report.target,
    policies: Object.fromEntries(report.policies.map((p) => [p.policy, { rto: p.rto, rpo: p.rpo, restorePoint: p.restorePoint, passed: p.passed }])),
    ...(report.zone ? { zone: { requests: report.zone.requests, failover: report.zone.failover, failback: report.zone.failback, stop: report.zone.stop, passed: report.zone.passed } } : {}),
  };
}
