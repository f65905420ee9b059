import type { Schedule } from '../../config/index.js';
import { nextRunAt } from './plan.js';

/**
 * Node holds a timer for at most ~24.8 days and a monthly schedule can be
 * further off; the wall clock can also be stepped. So a timer never sleeps
 * longer than this: it wakes, finds it is early, and sleeps again.
 */
export const MAX_TIMER_MS = 3_600_000;

/**
 * One timer on a schedule. When a slot comes it calls `onDue(slot)` and
 * arms for the next slot after now: slots missed while the process was
 * blocked or asleep are skipped, not fired in a burst.
 */
export class ScheduleTimer {
  private timer: NodeJS.Timeout | undefined;
  private due: number | null = null;
  private running = false;

  constructor(
    readonly schedule: Schedule,
    private readonly onDue: (slot: number) => void,
    private readonly now: () => number,
  ) {}

  /** The next slot, epoch ms; null when stopped or the schedule never fires again. */
  get nextRun(): number | null {
    return this.due;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm(nextRunAt(this.schedule, this.now()));
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = null;
  }

  private arm(due: number | null): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = due;
    if (due === null || !this.running) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, due - this.now()));
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const due = this.due;
    if (!this.running || due === null) return;
    const now = this.now();
    if (now < due) return this.arm(due);
    this.arm(nextRunAt(this.schedule, Math.max(due, now)));
    this.onDue(due);
  }
}
