import { formatDuration } from './format.js';

/**
 * The four DR strategies of the AWS whitepaper "Disaster Recovery of Workloads
 * on AWS", weakest (cheapest) first. multi_site covers hot standby and
 * active/active.
 */
export type DrStrategy = 'backup_restore' | 'pilot_light' | 'warm_standby' | 'multi_site';
export const DR_STRATEGIES: readonly DrStrategy[] = ['backup_restore', 'pilot_light', 'warm_standby', 'multi_site'];

export const STRATEGY_LABELS: Readonly<Record<DrStrategy, string>> = {
  backup_restore: 'backup & restore',
  pilot_light: 'pilot light',
  warm_standby: 'warm standby',
  multi_site: 'multi-site',
};

const MINUTE = 60_000;

/**
 * The rule. By RTO (how long we may be down): ≤ 5 min needs traffic already
 * served elsewhere (multi-site); ≤ 30 min a running scaled-down copy (warm
 * standby); ≤ 2 h replicated data with infrastructure ready to start (pilot
 * light); longer, restoring backups fits. By RPO (how much data we may lose):
 * 0 needs synchronous replication (multi-site); ≤ 1 min continuous
 * asynchronous replication (warm standby); ≤ 15 min continuous replication or
 * WAL archiving (pilot light); longer, scheduled backups fit. The stronger of
 * the two wins. A value at a threshold belongs to the stronger strategy.
 */
export const RTO_THRESHOLDS_MS = { multi_site: 5 * MINUTE, warm_standby: 30 * MINUTE, pilot_light: 120 * MINUTE } as const;
export const RPO_THRESHOLDS_MS = { multi_site: 0, warm_standby: 1 * MINUTE, pilot_light: 15 * MINUTE } as const;

const RTO_NEEDS: Readonly<Record<DrStrategy, string>> = {
  multi_site: 'a full copy already serving traffic in another region',
  warm_standby: 'a running, scaled-down copy in another region',
  pilot_light: 'data replicated to another region with core infrastructure ready to start',
  backup_restore: 'restoring off-site backups on demand',
};

const RPO_NEEDS: Readonly<Record<DrStrategy, (rpo: string) => string>> = {
  multi_site: () => 'synchronous replication to another region',
  warm_standby: () => 'continuous asynchronous replication to another region',
  pilot_light: () => 'continuous replication or WAL archiving to another region',
  backup_restore: (rpo) => `backups copied off-site at least every ${rpo}`,
};

export interface StrategyAdvice {
  strategy: DrStrategy;
  byRto: DrStrategy;
  byRpo: DrStrategy;
  drivenBy: 'rto' | 'rpo' | 'both';
  /** One line naming the promise that drove the choice. */
  reason: string;
}

export function strategyForRto(rtoMs: number): DrStrategy {
  return pick(rtoMs, RTO_THRESHOLDS_MS);
}

export function strategyForRpo(rpoMs: number): DrStrategy {
  return pick(rpoMs, RPO_THRESHOLDS_MS);
}

function pick(ms: number, thresholds: { multi_site: number; warm_standby: number; pilot_light: number }): DrStrategy {
  if (ms <= thresholds.multi_site) return 'multi_site';
  if (ms <= thresholds.warm_standby) return 'warm_standby';
  if (ms <= thresholds.pilot_light) return 'pilot_light';
  return 'backup_restore';
}

function strength(s: DrStrategy): number {
  return DR_STRATEGIES.indexOf(s);
}

export function recommendStrategy(promise: { rtoMs: number; rpoMs: number }): StrategyAdvice {
  const byRto = strategyForRto(promise.rtoMs);
  const byRpo = strategyForRpo(promise.rpoMs);
  const rto = `RTO ${formatDuration(promise.rtoMs)}`;
  const rpo = `RPO ${formatDuration(promise.rpoMs)}`;
  const rpoNeeds = RPO_NEEDS[byRpo](formatDuration(promise.rpoMs));
  if (byRto === byRpo) {
    const reason = `${rto} and ${rpo} both call for ${STRATEGY_LABELS[byRto]}: ${RTO_NEEDS[byRto]}, with ${rpoNeeds}`;
    return { strategy: byRto, byRto, byRpo, drivenBy: 'both', reason };
  }
  if (strength(byRto) > strength(byRpo)) {
    const reason = `${rto} needs ${RTO_NEEDS[byRto]}: ${STRATEGY_LABELS[byRto]} (${rpo} alone would allow ${STRATEGY_LABELS[byRpo]})`;
    return { strategy: byRto, byRto, byRpo, drivenBy: 'rto', reason };
  }
  const reason = `${rpo} needs ${rpoNeeds}: ${STRATEGY_LABELS[byRpo]} (${rto} alone would allow ${STRATEGY_LABELS[byRto]})`;
  return { strategy: byRpo, byRto, byRpo, drivenBy: 'rpo', reason };
}
