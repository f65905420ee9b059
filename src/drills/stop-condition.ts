import { fmt } from './grade.js';
import type { RequestResult } from './traffic.js';

/**
 * When a drill must stop: the error rate of its synthetic traffic over a
 * sliding window passes `errorRate`, or the burn rate (that error rate over
 * the tier's error budget, 1 − availability) passes `burnRate`.
 */
export interface StopConditionSpec { errorRate?: number; burnRate?: number; windowMs: number; minRequests: number; availability?: number }

export interface Breach { at: number; reason: string; errorRate: number; failed: number; total: number }

export class StopCondition {
  private readonly window: RequestResult[] = [];
  private breached = false;

  constructor(private readonly spec: StopConditionSpec, private readonly onBreach: (b: Breach) => void) {}

  /** Feed each answer as it comes; fires `onBreach` once. */
  observe(r: RequestResult): void {
    if (this.breached) return;
    this.window.push(r);
    const from = r.doneAt - this.spec.windowMs;
    while (this.window.length > 0 && this.window[0]!.doneAt < from) this.window.shift();
    const total = this.window.length;
    if (total < this.spec.minRequests) return;
    const failed = this.window.filter((x) => !x.ok).length;
    const rate = failed / total;
    const reason = this.reason(rate);
    if (reason === undefined) return;
    this.breached = true;
    this.onBreach({ at: r.doneAt, reason: `${reason} (${failed} of ${total} requests failed in ${fmt(this.spec.windowMs)})`, errorRate: rate, failed, total });
  }

  private reason(rate: number): string | undefined {
    const { errorRate, burnRate, availability } = this.spec;
    if (errorRate !== undefined && rate > errorRate) return `error rate ${pct(rate)} passed the bound ${pct(errorRate)}`;
    if (burnRate !== undefined && availability !== undefined && availability < 1) {
      const burn = rate / (1 - availability);
      if (burn > burnRate) return `burn rate ${burn.toFixed(1)} passed the bound ${burnRate} (error budget ${pct(1 - availability)})`;
    }
    return undefined;
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;
}
