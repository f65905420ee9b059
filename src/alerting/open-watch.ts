import type { AlertContext } from './context.js';
import { nextDue } from './escalation.js';

const MAX_TIMER_MS = 60_000;

/**
 * What follows an incident change: the open-incident gauges, and the one
 * timer at the nearest due step, reminder or resolve hold of any open
 * incident (at most MAX_TIMER_MS away). Both are O(open incidents).
 */
export class OpenIncidentWatch {
  private timer: NodeJS.Timeout | null = null;
  private pending: NodeJS.Immediate | null = null;

  constructor(private readonly ctx: AlertContext, private readonly onDue: () => void) {
    ctx.metrics.countOpenFrom(() => ctx.open.values());
  }

  changed(): void {
    this.pending ??= setImmediate(() => {
      this.pending = null;
      this.refresh();
    });
  }

  /** Re-arms the timer now. */
  refresh(): void {
    if (this.timer) clearTimeout(this.timer);
    let soonest = Infinity;
    for (const incident of this.ctx.open.values()) soonest = Math.min(soonest, nextDue(this.ctx, incident) ?? Infinity);
    const wait = Number.isFinite(soonest) ? Math.min(Math.max(soonest - this.ctx.now(), 0), MAX_TIMER_MS) : MAX_TIMER_MS;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onDue();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
