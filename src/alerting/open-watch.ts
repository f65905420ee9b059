import type { AlertContext } from './context.js';
import { nextDue } from './escalation.js';
import type { Incident } from './types.js';

const MAX_TIMER_MS = 60_000;

/**
 * What follows an incident change: the open-incident gauges, and the one
 * timer at the nearest due step, reminder or resolve hold of any open
 * incident (at most MAX_TIMER_MS away). Both are O(open incidents).
 */
export class OpenIncidentWatch {
  private timer: NodeJS.Timeout | null = null;
  private pending: NodeJS.Immediate | null = null;
  private armedAt: number | null = null;

  constructor(private readonly ctx: AlertContext, private readonly onDue: () => void) {
    ctx.metrics.countOpenFrom(() => ctx.open.values());
  }

  changed(incident?: Incident): void {
    const due = incident && this.ctx.open.has(incident.id) ? nextDue(this.ctx, incident) : null;
    if (due !== null && (this.armedAt === null || due < this.armedAt)) this.arm(due);
    this.pending ??= setImmediate(() => {
      this.pending = null;
      this.refresh();
    });
  }

  /** Re-arms the timer now. */
  refresh(): void {
    let soonest = Infinity;
    for (const incident of this.ctx.open.values()) soonest = Math.min(soonest, nextDue(this.ctx, incident) ?? Infinity);
    this.arm(soonest);
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    const now = this.ctx.now();
    const wait = Number.isFinite(at) ? Math.min(Math.max(at - now, 0), MAX_TIMER_MS) : MAX_TIMER_MS;
    this.armedAt = now + wait;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedAt = null;
      this.onDue();
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = null;
  }
}
