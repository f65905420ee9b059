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

  constructor(private readonly ctx: AlertContext, private readonly onDue: () => void) {}

  changed(): void {
    this.refresh();
  }

  /** Gauges and timer now. */
  refresh(): void {
    this.updateGauges();
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Counted first and set once per label pair: a gauge update per open incident cost more than the rest of a change. */
  private updateGauges(): void {
    const counts = new Map<string, { severity: string; state: string; n: number }>();
    for (const { severity, state } of this.ctx.open.values()) {
      const key = `${severity}|${state}`;
      const entry = counts.get(key);
      if (entry) entry.n++;
      else counts.set(key, { severity, state, n: 1 });
    }
    this.ctx.metrics.incidentsOpen.reset();
    for (const { severity, state, n } of counts.values()) this.ctx.metrics.incidentsOpen.set({ severity, state }, n);
  }
}
