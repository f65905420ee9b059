import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from './scheduler.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function counter() {
  const starts: number[] = [];
  return { starts, run: async () => void starts.push(Date.now()) };
}

describe('Scheduler', () => {
  it('runs each job at a fixed rate', async () => {
    const scheduler = new Scheduler({ random: () => 0 });
    const job = counter();
    scheduler.add({ id: 'a', intervalMs: 1000, timeoutMs: 500, run: job.run });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(3500);
    expect(job.starts).toEqual([0, 1000, 2000, 3000]);
    await scheduler.stop(AbortSignal.abort());
  });

  it('spreads first runs with jitter', async () => {
    let r = 0;
    const scheduler = new Scheduler({ random: () => (r++ % 4) / 4 });
    const starts: number[] = [];
    for (let i = 0; i < 4; i++) scheduler.add({ id: `j${i}`, intervalMs: 1000, timeoutMs: 100, firstRunSpreadMs: 1000, run: async () => void starts.push(Date.now()) });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(starts).toEqual([0, 250, 500, 750]);
    await scheduler.stop(AbortSignal.abort());
  });

  it('never overlaps a job with itself; the slot is skipped and counted', async () => {
    const skipped: string[] = [];
    const scheduler = new Scheduler({ random: () => 0, onSkip: (id) => skipped.push(id) });
    const starts: number[] = [];
    scheduler.add({ id: 'slow', intervalMs: 1000, timeoutMs: 10_000, run: async () => {
      starts.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(4100);
    expect(starts).toEqual([0, 2000, 4000]);
    expect(skipped).toEqual(['slow', 'slow']);
    await scheduler.stop(AbortSignal.abort());
  });

  it('aborts a run at its timeout through the signal', async () => {
    const scheduler = new Scheduler({ random: () => 0 });
    let abortedAt = -1;
    scheduler.add({ id: 'hang', intervalMs: 10_000, timeoutMs: 300, run: (signal) => new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => { abortedAt = Date.now(); resolve(); });
    }) });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(350);
    expect(abortedAt).toBe(300);
    await scheduler.stop(AbortSignal.abort());
  });

  it('bounds concurrency and reports the lag of waiting runs', async () => {
    const lags: number[] = [];
    const scheduler = new Scheduler({ random: () => 0, maxConcurrent: 1, onStart: (_id, lag) => lags.push(lag) });
    for (const id of ['a', 'b']) scheduler.add({ id, intervalMs: 10_000, timeoutMs: 1000, run: () => new Promise((resolve) => setTimeout(resolve, 100)) });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(lags).toEqual([0, 100]);
    await scheduler.stop(AbortSignal.abort());
  });

  it('removed jobs stop running; stop() waits for runs in flight until the deadline', async () => {
    const scheduler = new Scheduler({ random: () => 0 });
    const job = counter();
    scheduler.add({ id: 'a', intervalMs: 1000, timeoutMs: 100, run: job.run });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1500);
    scheduler.remove('a');
    await vi.advanceTimersByTimeAsync(3000);
    expect(job.starts).toEqual([0, 1000]);
    let aborted = false;
    scheduler.add({ id: 'b', intervalMs: 1000, timeoutMs: 60_000, run: (signal) => new Promise<void>((resolve) => {
      signal.addEventListener('abort', () => { aborted = true; resolve(); });
    }) });
    await vi.advanceTimersByTimeAsync(10);
    const deadline = new AbortController();
    setTimeout(() => deadline.abort(), 200);
    const stopping = scheduler.stop(deadline.signal);
    await vi.advanceTimersByTimeAsync(250);
    await stopping;
    expect(aborted).toBe(true);
  });
});
