import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSchedule, type Schedule } from '../../config/index.js';
import { lastDueAt, needsCatchUp, nextRunAt } from './plan.js';
import { RunQueue } from './queue.js';
import { MAX_TIMER_MS, ScheduleTimer } from './timer.js';

function schedule(text: string): Schedule {
  const parsed = parseSchedule(text);
  if (!parsed.ok) throw new Error(`bad schedule ${text}`);
  return parsed.value;
}

const T = (iso: string) => Date.parse(iso);

describe('schedule decisions', () => {
  it('finds the next slot strictly after a time, in the schedule\'s zone', () => {
    expect(nextRunAt(schedule('daily at 02:00'), T('2026-03-01T01:59:59.999Z'))).toBe(T('2026-03-01T02:00:00Z'));
    expect(nextRunAt(schedule('daily at 02:00'), T('2026-03-01T02:00:00Z'))).toBe(T('2026-03-02T02:00:00Z'));
    expect(nextRunAt(schedule('daily at 02:00 Europe/Paris'), T('2026-03-01T00:00:00Z'))).toBe(T('2026-03-01T01:00:00Z'));
    expect(nextRunAt(schedule('*/2 * * * * *'), T('2026-03-01T00:00:01.500Z'))).toBe(T('2026-03-01T00:00:02Z'));
  });

  it('finds the latest slot at or before a time', () => {
    expect(lastDueAt(schedule('daily at 02:00'), T('2026-03-01T02:00:00Z'))).toBe(T('2026-03-01T02:00:00Z'));
    expect(lastDueAt(schedule('daily at 02:00'), T('2026-03-01T01:59:59.999Z'))).toBe(T('2026-02-28T02:00:00Z'));
    expect(lastDueAt(schedule('every 15 minutes'), T('2026-03-01T10:44:59Z'))).toBe(T('2026-03-01T10:30:00Z'));
  });

  it('catches up when the last run started before the latest slot, however many slots were missed', () => {
    const daily = schedule('daily at 02:00');
    const now = T('2026-03-05T09:00:00Z');
    expect(needsCatchUp(daily, T('2026-03-01T02:00:00Z'), now)).toBe(true); // four slots missed: one run
    expect(needsCatchUp(daily, T('2026-03-05T01:59:00Z'), now)).toBe(true);
    expect(needsCatchUp(daily, T('2026-03-05T02:00:00Z'), now)).toBe(false); // ran on time
    expect(needsCatchUp(daily, T('2026-03-05T02:07:00Z'), now)).toBe(false); // ran late (queued), but ran
    expect(needsCatchUp(daily, null, now)).toBe(false); // never ran: wait for the schedule
  });
});

describe('ScheduleTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at each slot, and sleeps in bounded steps towards a far one', async () => {
    vi.useFakeTimers({ now: T('2026-03-01T00:00:00Z') });
    const fired: number[] = [];
    const monthly = new ScheduleTimer(schedule('monthly on day 28 at 00:00'), (slot) => fired.push(slot), () => Date.now());
    monthly.start();
    expect(monthly.nextRun).toBe(T('2026-03-28T00:00:00Z'));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(T('2026-03-28T00:00:00Z') - Date.now());
    expect(fired).toEqual([T('2026-03-28T00:00:00Z')]);
    expect(monthly.nextRun).toBe(T('2026-04-28T00:00:00Z'));
    monthly.stop();
    expect(monthly.nextRun).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('skips the slots missed while the process was blocked instead of firing them in a burst', async () => {
    vi.useFakeTimers({ now: T('2026-03-01T00:00:00Z') });
    const fired: number[] = [];
    const timer = new ScheduleTimer(schedule('every 1 minutes'), (slot) => fired.push(slot), () => Date.now());
    timer.start();
    vi.setSystemTime(T('2026-03-01T00:05:30Z')); // the wall clock jumps; the timer fires 5.5 slots late
    await vi.advanceTimersByTimeAsync(60_000); // it fires now, at 00:06:30
    expect(fired).toEqual([T('2026-03-01T00:01:00Z')]);
    expect(timer.nextRun).toBe(T('2026-03-01T00:07:00Z'));
    timer.stop();
  });
});

describe('RunQueue', () => {
  it('runs one task at a time, in order, and drops a waiting task whose signal aborts', async () => {
    const queue = new RunQueue(1);
    const order: string[] = [];
    let release!: () => void;
    const first = queue.run(() => new Promise<void>((resolve) => {
      order.push('first');
      release = resolve;
    }), new AbortController().signal);
    const cancelled = new AbortController();
    const second = queue.run(async () => void order.push('second'), cancelled.signal);
    const third = queue.run(async () => void order.push('third'), new AbortController().signal);
    expect(queue.pending).toBe(2);
    cancelled.abort(new Error('stop'));
    await expect(second).rejects.toThrow('stop');
    release();
    await Promise.all([first, third]);
    expect(order).toEqual(['first', 'third']);
    expect(queue.running).toBe(0);
  });
});
