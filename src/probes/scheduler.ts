import { MinHeap } from './heap.js';

export interface Job {
  id: string;
  intervalMs: number;
  /** Each run gets a signal that aborts at this timeout, or when the scheduler stops. */
  timeoutMs: number;
  /** The first run is spread over [0, firstRunSpreadMs) so that checks do not fire in lockstep. */
  firstRunSpreadMs?: number;
  run(signal: AbortSignal): Promise<void>;
}

export interface SchedulerOptions {
  now?: () => number;
  random?: () => number;
  /** Checks in flight at once; more wait their turn, and their lag shows it. */
  maxConcurrent?: number;
  /** Called at each start with how late it started (ms after it was due). */
  onStart?: (jobId: string, lagMs: number) => void;
  /** Called when a run is skipped because the previous run of the job is still going. */
  onSkip?: (jobId: string) => void;
}

interface Entry {
  due: number;
  job: Job;
  running: boolean;
  removed: boolean;
}

/**
 * Fixed-rate scheduling of many jobs on one timer: due times advance by the
 * interval from the schedule, not from when a run ended, so slow checks do
 * not drift. A job never overlaps itself: a run still going when the next is
 * due makes that slot skipped.
 */
export class Scheduler {
  private readonly heap = new MinHeap<Entry>();
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: Array<{ entry: Entry; due: number }> = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopController = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private running = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly maxConcurrent: number;

  constructor(private readonly options: SchedulerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.maxConcurrent = options.maxConcurrent ?? 1024;
  }

  get size(): number {
    return this.entries.size;
  }

  get active(): number {
    return this.inFlight.size;
  }

  add(job: Job): void {
    this.remove(job.id);
    const spread = job.firstRunSpreadMs ?? 0;
    const entry: Entry = { due: this.now() + Math.floor(this.random() * spread), job, running: false, removed: false };
    this.entries.set(job.id, entry);
    this.heap.push(entry);
    if (this.running) this.arm();
  }

  remove(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.removed = true;
    this.entries.delete(id);
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  /** Stop scheduling; runs in flight get until `deadline`, then their signals abort. */
  async stop(deadline: AbortSignal): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    const abort = () => this.stopController.abort(new Error('scheduler stopped'));
    if (deadline.aborted) abort();
    else deadline.addEventListener('abort', abort, { once: true });
    try {
      // A run that ignores its signal is abandoned at the deadline, not waited for.
      await Promise.race([Promise.allSettled([...this.inFlight]), abortedPromise(this.stopController.signal)]);
    } finally {
      deadline.removeEventListener('abort', abort);
    }
  }

  private arm(): void {
    const next = this.heap.peek();
    if (!this.running || !next) return;
    if (next.due >= this.timerDue && this.timer) return;
    clearTimeout(this.timer);
    this.timerDue = next.due;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next.due - this.now()));
    this.timer.unref?.();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = this.now();
    for (let top = this.heap.peek(); top && top.due <= now; top = this.heap.peek()) {
      const entry = this.heap.pop() as Entry;
      if (entry.removed) continue;
      this.dispatch(entry, entry.due);
      entry.due = nextDue(entry.due, entry.job.intervalMs, now);
      this.heap.push(entry);
    }
    this.arm();
  }

  private dispatch(entry: Entry, due: number): void {
    if (entry.running) {
      this.options.onSkip?.(entry.job.id);
      return;
    }
    entry.running = true;
    if (this.inFlight.size >= this.maxConcurrent) this.waiting.push({ entry, due });
    else this.launch(entry, due);
  }

  private launch(entry: Entry, due: number): void {
    this.options.onStart?.(entry.job.id, Math.max(0, this.now() - due));
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${entry.job.timeoutMs}ms`)), entry.job.timeoutMs);
    const signal = AbortSignal.any([timeout.signal, this.stopController.signal]);
    const run = entry.job.run(signal).catch(() => undefined).finally(() => {
      clearTimeout(timer);
      entry.running = false;
      this.inFlight.delete(run);
      const next = this.waiting.shift();
      if (next && !next.entry.removed) this.launch(next.entry, next.due);
      else if (next) next.entry.running = false;
    });
    this.inFlight.add(run);
  }
}

/** The next slot after `now` on the job's fixed grid; missed slots are skipped, not bunched. */
function nextDue(due: number, interval: number, now: number): number {
  const next = due + interval;
  if (next > now) return next;
  return due + Math.ceil((now - due + 1) / interval) * interval;
}

function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
