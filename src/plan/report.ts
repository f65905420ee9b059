import type { Downtime } from './budget.js';
import type { StrategyAdvice } from './strategy.js';

/** Stable codes: `bulwark check` and scripts match on them, so never rename one. */
export type PlanFindingCode =
  | 'DEPENDENCY_CYCLE'
  | 'UNKNOWN_DEPENDENCY'
  | 'UNKNOWN_TIER'
  | 'UNKNOWN_ZONE'
  | 'UNKNOWN_REGION'
  | 'INVALID_AVAILABILITY'
  | 'NO_MEMBERS'
  | 'APPROXIMATE'
  | 'BELOW_TARGET'
  | 'RTO_EXCEEDED';

export type Severity = 'error' | 'warning' | 'info';

export interface PlanFinding {
  code: PlanFindingCode;
  severity: Severity;
  /** The component the finding is about, when there is one. */
  component?: string;
  message: string;
}

export type SpofScope = 'member' | 'host' | 'zone' | 'region';

export interface SpofFinding {
  component: string;
  scope: SpofScope;
  /** The member, host (as written on the first member), zone or region whose loss takes the component down. */
  domain: string;
  message: string;
}

export interface TierTarget {
  availability: number;
  rtoMs: number;
  rpoMs: number;
}

export interface ModelledAvailability {
  /** The component's own members only. */
  own: number;
  /** The component and everything it depends on, transitively (series). */
  endToEnd: number;
  /** True when shared failure domains were treated as independent (too many to enumerate). */
  approximate: boolean;
  /** Number of uncertain failure domains (zones + regions + hosts shared by two or more members) the end-to-end figure involved. */
  domains: number;
}

export interface RecoveryEstimate {
  /** How long until a dead member is noticed (health check interval × fall + timeout, or the lease ttl + loop_wait). */
  detectionMs: number | null;
  /** detectionMs + failoverMs; null when detection time is unknown. */
  estimatedRecoveryMs: number | null;
  rtoMs: number | null;
  meetsRto: boolean | null;
}

export interface ComponentPlan {
  name: string;
  kind: 'service' | 'database' | 'gateway';
  tier: string | null;
  /** Known dependencies (unknown names are dropped and reported as findings). */
  dependsOn: string[];
  availability: ModelledAvailability;
  /** The tier's promise; null without a (known) tier. */
  target: TierTarget | null;
  /** End-to-end availability ≥ target; null without a target. */
  meetsTarget: boolean | null;
  /** Downtime the target allows; null without a target. */
  budget: Downtime | null;
  /** Downtime the modelled end-to-end availability implies. */
  expectedDowntime: Downtime;
  recovery: RecoveryEstimate;
  /** DR strategy the tier's RTO and RPO call for; null without a target. */
  strategy: StrategyAdvice | null;
}

export interface PlanReport {
  components: ComponentPlan[];
  spofs: SpofFinding[];
  findings: PlanFinding[];
  /** True when any component's figure is approximate. */
  approximate: boolean;
  conventions: { daysPerYear: number; yearMs: number; monthMs: number; weekMs: number; maxExactDomains: number };
}
