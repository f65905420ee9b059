import type { BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { formatDurationShort } from '../../config/index.js';
import { evaluateOwnerBurnRate, type BurnOwner, type BurnSourceStore } from '../burn-source.js';
import type { BurnRateAlertResult } from '../burn-rate.js';
import type { Signal } from '../types.js';
import { labels, tierOf, type RuleLike } from './common.js';
import { PolledSource } from './polled.js';

export interface BurnSourceOptions {
  rules: readonly RuleLike[];
  config: BulwarkConfig;
  store: BurnSourceStore;
  log: Logger;
  now: () => number;
  intervalMs?: number;
}

const rate = (r: number | null): string => (r === null ? 'no data' : Number.isFinite(r) ? `${r.toFixed(1)}×` : 'infinitely');
const windowLabel = (a: BurnRateAlertResult): string => `${formatDurationShort(a.spec.longWindowMs)}/${formatDurationShort(a.spec.shortWindowMs)}`;

function owners(rule: RuleLike): BurnOwner[] {
  return [
    ...rule.subjects.services.map((name) => ({ kind: 'service' as const, name })),
    ...rule.subjects.databases.map((name) => ({ kind: 'database' as const, name })),
  ];
}

function burnSummary(name: string, alert: BurnRateAlertResult | undefined, fallback: string): string {
  if (!alert) return `${name} is no longer burning its error budget fast (${fallback})`;
  const { spec, long, short } = alert;
  return `${name} is burning its error budget ${rate(long.burnRate)} over ${formatDurationShort(spec.longWindowMs)} and ${rate(short.burnRate)} over ${formatDurationShort(spec.shortWindowMs)} `
    + `(at ${spec.burnRate}× ${Math.round(spec.budgetConsumed * 100)}% of a 30-day budget is gone in ${formatDurationShort(spec.longWindowMs)})`;
}

/** error_budget_burn: the workbook's multi-window burn rates per service and database, from the recorded state changes. */
export class BurnSource extends PolledSource {
  private config: BulwarkConfig;

  constructor(private readonly options: BurnSourceOptions) {
    super({ conditions: ['error_budget_burn'], intervalMs: options.intervalMs ?? 60_000, log: options.log, failure: 'evaluating error-budget burn rates', now: options.now }, options.rules);
    this.config = options.config;
  }

  protected override configure(config: BulwarkConfig): void {
    this.config = config;
  }

  protected async evaluate(now: number): Promise<Signal[]> {
    const evaluated: Signal[] = [];
    for (const rule of this.index.rules) {
      for (const owner of owners(rule)) {
        const signal = await this.evaluateOwner(rule, owner, now);
        if (signal) evaluated.push(signal);
      }
    }
    return evaluated;
  }

  private async evaluateOwner(rule: RuleLike, owner: BurnOwner, now: number): Promise<Signal | null> {
    const subject = `${owner.kind}/${owner.name}`;
    const target = rule.thresholds.availability?.[subject];
    if (target === undefined) return null;
    const evaluation = await evaluateOwnerBurnRate(this.options.store, {
      owner, target, now, specs: rule.thresholds.burnRates, maintenanceWindows: this.config.maintenance_windows,
    });
    const worst = evaluation.firing[0];
    const shown = worst ?? evaluation.alerts[0];
    return {
      rule: rule.name, subject, firing: worst !== undefined, at: now,
      summary: burnSummary(owner.name, worst, shown ? `${rate(shown.long.burnRate)} over ${formatDurationShort(shown.spec.longWindowMs)}` : 'no windows'),
      labels: labels({ [owner.kind]: owner.name, tier: tierOf(this.config, owner.kind, owner.name), window: shown ? windowLabel(shown) : undefined }),
    };
  }
}
