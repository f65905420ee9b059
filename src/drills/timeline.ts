import { errorMessage } from '../core/errors.js';
import type { TimelineStep } from './types.js';

/** The drill's execution log: each step with its start, duration and outcome. */
export class Timeline {
  readonly steps: TimelineStep[] = [];

  constructor(private readonly onStep: (step: TimelineStep) => void = () => undefined) {}

  /** Runs one step and records it, failed or not; the error passes through. */
  async step<T>(step: TimelineStep['step'], subject: string | undefined, fn: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    const startedAt = Date.now();
    const began = performance.now();
    try {
      const value = await fn();
      this.record({ step, subject, startedAt, durationMs: Math.round(performance.now() - began), ok: true, detail: detail?.(value) });
      return value;
    } catch (err) {
      this.record({ step, subject, startedAt, durationMs: Math.round(performance.now() - began), ok: false, detail: errorMessage(err) });
      throw err;
    }
  }

  record(step: TimelineStep): void {
    this.steps.push(step);
    this.onStep(step);
  }

  /** Total milliseconds of the steps of a subject with these names. */
  sum(subject: string, names: ReadonlyArray<TimelineStep['step']>): number {
    return this.steps.filter((s) => s.subject === subject && names.includes(s.step)).reduce((n, s) => n + s.durationMs, 0);
  }
}
