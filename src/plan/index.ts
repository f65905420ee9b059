export type { Topology, Component, Member } from './model.js';
export type {
  PlanReport, ComponentPlan, ModelledAvailability, RecoveryEstimate, TierTarget,
  PlanFinding, PlanFindingCode, Severity, SpofFinding, SpofScope,
} from './report.js';
export { planTopology, type PlanOptions } from './plan.js';
export { series, parallel } from './compose.js';
export { MAX_EXACT_DOMAINS } from './availability.js';
export { downtimeFor, DAYS_PER_YEAR, DAY_MS, YEAR_MS, MONTH_MS, WEEK_MS, type Downtime } from './budget.js';
export {
  recommendStrategy, strategyForRto, strategyForRpo, DR_STRATEGIES, STRATEGY_LABELS,
  RTO_THRESHOLDS_MS, RPO_THRESHOLDS_MS, type DrStrategy, type StrategyAdvice,
} from './strategy.js';
export { findSpofs } from './spof.js';
export { hostKey, hostOfUrl, isLoopback, hostDomainId } from './hosts.js';
export { findCycles } from './graph.js';
export { renderPlanTable, type RenderOptions } from './render.js';
export { formatPercent, formatDuration, percentDigits } from './format.js';
