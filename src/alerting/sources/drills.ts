import type { BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { DrillRunRecord, DrillRunsStore } from '../../store/index.js';
import type { Signal } from '../types.js';
import { labels, type RuleLike } from './common.js';
import { PolledSource } from './polled.js';

export interface DrillSourceOptions {
  rules: readonly RuleLike[];
  config: BulwarkConfig;
  store: { drillRuns: Pick<DrillRunsStore, 'list'> };
  log: Logger;
  now: () => number;
  intervalMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The first issues of a run's report, for the summary; the report is the drills room's shape, read defensively. */
function firstIssues(run: DrillRunRecord): string {
  const issues = (run.report as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return 'no issue recorded';
  const shown = issues.slice(0, 2).map(String).join('; ');
  return issues.length > 2 ? `${shown}; and ${issues.length - 2} more` : shown;
}

function tierOfRun(run: DrillRunRecord): string | undefined {
  const tier = (run.measured as { target?: { tier?: unknown } } | null)?.target?.tier;
  return typeof tier === 'string' ? tier : undefined;
}

function drillSignal(rule: RuleLike, run: DrillRunRecord, at: number): Signal {
  const firing = run.outcome === 'failed';
  return {
    rule: rule.name, subject: `drill/${run.drill}`, firing, at,
    summary: firing
      ? `drill ${run.drill} failed at ${iso(run.finishedAt)} (run ${run.id.slice(0, 8)}): ${firstIssues(run)}`
      : `drill ${run.drill} ${run.outcome} at ${iso(run.finishedAt)} (run ${run.id.slice(0, 8)})`,
    labels: labels({ drill: run.drill, type: run.type, tier: tierOfRun(run), run: run.id }),
  };
}

/**
 * drill_failed from the store's drill runs: fires while the newest run of a
 * drill of dr_testing failed (a target missed, or the restore not whole) and
 * clears when a newer run passes. An aborted run (interrupted, timed out,
 * crashed) neither fires nor clears: it proved nothing either way.
 */
export class DrillSource extends PolledSource {
  private config: BulwarkConfig;

  constructor(private readonly options: DrillSourceOptions) {
    super({ conditions: ['drill_failed'], intervalMs: options.intervalMs ?? 30_000, log: options.log, failure: 'reading the drill runs', now: options.now }, options.rules);
    this.config = options.config;
  }

  protected override configure(config: BulwarkConfig): void {
    this.config = config;
  }

  protected async evaluate(now: number): Promise<Signal[]> {
    const rules = this.index.of('drill_failed');
    if (rules.length === 0) return [];
    const signals: Signal[] = [];
    for (const drill of Object.keys(this.config.dr_testing)) {
      const runs = await this.options.store.drillRuns.list({ drill, limit: 20 });
      const graded = runs.find((r) => r.outcome !== 'aborted');
      if (graded) for (const rule of rules) signals.push(drillSignal(rule, graded, now));
    }
    return signals;
  }
}
