import type { AlertCondition, BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { Signal } from '../types.js';
import { AlertTracker, Poller, RuleIndex, rulesFor, type Emit, type RuleLike, type SignalSources } from './common.js';

export interface PolledSourceSettings {
  /** The conditions this source evaluates. */
  conditions: readonly AlertCondition[];
  intervalMs: number;
  log: Logger;
  /** What failed, for the log: "reading the backup runs". */
  failure: string;
  now: () => number;
}

/**
 * A source that evaluates its rules on a timer and reports changes only: the
 * shape the backup, burn-rate, metric and database sources share. A subclass
 * says how every alert of its rules stands now; the tracker turns that into
 * firing and clearing signals.
 */
export abstract class PolledSource implements SignalSources {
  protected readonly tracker = new AlertTracker();
  protected index: RuleIndex;
  private readonly poller: Poller;

  protected constructor(private readonly settings: PolledSourceSettings, rules: readonly RuleLike[]) {
    this.index = new RuleIndex(rulesFor(rules, ...settings.conditions));
    this.poller = new Poller({
      intervalMs: settings.intervalMs,
      evaluate: () => this.changes(),
      onError: (err) => settings.log.warn({ err }, `alerting: ${settings.failure} failed`),
    });
  }

  start(emit: Emit): void {
    this.poller.start(emit);
  }

  stop(): void {
    this.poller.stop();
  }

  reload(rules: readonly RuleLike[], config: BulwarkConfig): void {
    this.index = new RuleIndex(rulesFor(rules, ...this.settings.conditions));
    this.configure(config);
  }

  snapshot(): Signal[] {
    return this.tracker.snapshot();
  }

  /** One poll now; resolves when its signals were emitted. */
  poll(): Promise<void> {
    return this.poller.tick();
  }

  /** Every alert of the polled rules as it stands at `now`. */
  protected abstract evaluate(now: number): Promise<Signal[]>;

  /** A reloaded configuration, for sources that read it. */
  protected configure(_config: BulwarkConfig): void {}

  /** The rules a poll evaluates completely; a firing alert of theirs that it no longer reports clears. */
  protected polledRules(): ReadonlySet<string> {
    return this.index.names();
  }

  private async changes(): Promise<Signal[]> {
    const now = this.settings.now();
    const evaluated = await this.evaluate(now);
    const names = this.polledRules();
    return [...this.tracker.dropRules(names, now), ...this.tracker.sync(evaluated, names, now)];
  }
}
