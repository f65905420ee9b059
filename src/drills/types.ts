import type { DrillOutcome } from '../store/index.js';
import type { ExperimentMeasurement } from './experiment/run.js';
import type { RegionMeasurement } from './region-types.js';
import type { ZoneMeasurement } from './zone-types.js';

/** One step of a drill, as the timeline and the report show it. */
export interface TimelineStep {
  step: 'lock' | 'recover' | 'fetch' | 'restore' | 'start' | 'validate' | 'teardown' | 'grade' | FailoverStep
    // zone drills
    | 'steady' | 'fault' | 'failover' | 'failback' | 'stop'
    // experiments
    | 'hypothesis' | 'action' | 'rollback';
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

/** The steps of a database failover drill; detect, promote and first-write are the RTO's phases. */
export type FailoverStep = 'check' | 'prepare' | 'warm-up' | 'switchover' | 'kill' | 'detect' | 'promote' | 'first-write' | 'settle' | 'count';

/** What a database failover drill measured. Times in ms; RTO runs from the fault (request written, or SIGKILL sent). */
export interface FailoverMeasurement {
  database: string;
  mode: 'switchover' | 'kill';
  synchronous: boolean;
  /** The primary before the fault, and the member the writer's first acknowledgement after it came from. */
  from: string;
  to?: string;
  /** fault → the leader key left the old primary; → the new leader answered as a writable primary; → the writer's first acknowledgement there. */
  phasesMs: { detection?: number; promotion?: number; firstWrite?: number };
  /** Fault → first acknowledged write on the new primary. */
  rto?: Graded;
  /** Acknowledged writes lost, as time: the last kept acknowledgement before the first lost one → the old primary's last acknowledgement; 0 when none was lost. */
  rpo?: Graded;
  /** Last acknowledgement on the old primary → first on the new. */
  writePauseMs?: number;
  longestGapMs?: number;
  /** The new leader's own measure (its history entry in etcd). */
  managerMs?: number;
  /** Fault → the old primary streaming from the new leader (in the synchronous set when synchronous). */
  redundantAfterMs?: number;
  acknowledged: number;
  /** Acknowledged sequence numbers missing on the new primary after it settled: acknowledged writes lost. */
  lost: number;
  lostSeqs: number[];
  /** Sent, never answered (cut by the fault): they may or may not have committed; `unacknowledgedKept` of them did. */
  unacknowledged: number;
  unacknowledgedKept?: number;
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
  /** Database failover drills. */
  failover?: FailoverMeasurement;
  /** Zone drills: what taking the zone out showed. */
  zone?: ZoneMeasurement;
  /** Experiments: the hypothesis before and after, the method, the rollbacks. */
  experiment?: ExperimentMeasurement;
  /** Region drills (full_dr_exercise): the region's services and database end to end; `failover` or `policies` hold the database's own figures. */
  region?: RegionMeasurement;
  issues: string[];
  recommendations: string[];
}

/** The measured figures stored beside the report (`drill_runs.measured`). */
export function measuredOf(report: DrillReport): Record<string, unknown> {
  return {
    target: report.target,
    policies: Object.fromEntries(report.policies.map((p) => [p.policy, { rto: p.rto, rpo: p.rpo, restorePoint: p.restorePoint, passed: p.passed }])),
    ...(report.failover ? { failover: failoverFigures(report.failover) } : {}),
    ...(report.experiment ? { experiment: { verdict: report.experiment.verdict, passed: report.experiment.passed } } : {}),
    ...(report.region ? { region: regionFigures(report.region) } : {}),
    ...(report.zone ? { zone: { requests: report.zone.requests, failover: report.zone.failover, failback: report.zone.failback, stop: report.zone.stop, passed: report.zone.passed } } : {}),
  };
}

function failoverFigures(f: FailoverMeasurement): Record<string, unknown> {
  const { lostSeqs: _seqs, problems: _problems, ...figures } = f;
  return figures;
}

function regionFigures(r: RegionMeasurement): Record<string, unknown> {
  const { services, problems: _problems, ...figures } = r;
  return { ...figures, services: Object.fromEntries(services.map((s) => [s.service, { requests: s.requests, failover: s.failover, failback: s.failback, passed: s.passed }])) };
}
