import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHealth } from './health.js';
import { describeError } from './run-check.js';
import type { HealthCheck } from './types.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

const never: HealthCheck = { run: () => new Promise(() => {}) };
const failing = (message: string, critical = true): HealthCheck => ({
  critical,
  run: async () => {
    throw new Error(message);
  },
});

afterEach(() => {
  vi.useRealTimers();
});

describe('createHealth: liveness', () => {
  it('answers 200 pass without running any check', () => {
    const run = vi.fn(async () => {});
    const answer = createHealth({ checks: { db: { run } } }).live();
    expect(answer).toEqual({ httpStatus: 200, body: { status: 'pass', timestamp: expect.any(String) } });
    expect(run).not.toHaveBeenCalled();
  });
});

describe('createHealth: readiness', () => {
  it('runs checks in parallel', async () => {
    const slow: HealthCheck = { run: (signal) => sleep(200, signal) };
    const health = createHealth({ checks: { a: slow, b: slow, c: slow } });
    const started = performance.now();
    const answer = await health.ready();
    const took = performance.now() - started;
    expect(took).toBeLessThan(550);
    expect(answer.httpStatus).toBe(200);
    expect(answer.body.status).toBe('pass');
    for (const name of ['a', 'b', 'c']) {
      expect(answer.body.checks[name]?.status).toBe('pass');
      expect(answer.body.checks[name]?.response_time).toBeGreaterThanOrEqual(180);
    }
  });

  it('times out a check that ignores its signal, at the deadline', async () => {
    const health = createHealth({ checks: { stuck: { ...never, timeoutMs: 50 } } });
    const started = performance.now();
    const answer = await health.ready();
    expect(performance.now() - started).toBeLessThan(300);
    expect(answer.httpStatus).toBe(503);
    expect(answer.body.checks.stuck).toEqual({ status: 'fail', response_time: expect.any(Number), error: 'timeout after 50ms' });
  });

  it('aborts the signal of a check at its deadline and reports the timeout, not the abort error', async () => {
    let seen: AbortSignal | undefined;
    const health = createHealth({
      timeoutMs: 30,
      checks: {
        db: {
          run: (signal) => {
            seen = signal;
            return sleep(10_000, signal);
          },
        },
      },
    });
    const answer = await health.ready();
    expect(seen?.aborted).toBe(true);
    expect(answer.body.checks.db?.error).toBe('timeout after 30ms');
  });

  it('uses the default 2000 ms deadline and clears every timer', async () => {
    vi.useFakeTimers();
    const health = createHealth({ checks: { stuck: never, ok: { run: async () => 'up' } } });
    let settled = false;
    const pending = health.ready().then((answer) => {
      settled = true;
      return answer;
    });
    await vi.advanceTimersByTimeAsync(1999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const answer = await pending;
    expect(answer.body.checks.stuck?.error).toBe('timeout after 2000ms');
    expect(answer.body.checks.ok).toMatchObject({ status: 'pass', details: 'up' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('fails with 503 when a critical check fails, warns with 200 when only a non-critical one does', async () => {
    const ok: HealthCheck = { run: async () => ({ version: '16.2' }) };
    const warn = await createHealth({ checks: { db: ok, cache: failing('cache down', false) } }).ready();
    expect(warn.httpStatus).toBe(200);
    expect(warn.body.status).toBe('warn');
    expect(warn.body.checks.db).toEqual({ status: 'pass', response_time: expect.any(Number), details: { version: '16.2' } });
    expect(warn.body.checks.cache).toMatchObject({ status: 'fail', error: 'cache down' });

    const fail = await createHealth({ checks: { db: failing('db down'), cache: failing('cache down', false) } }).ready();
    expect(fail.httpStatus).toBe(503);
    expect(fail.body.status).toBe('fail');

    const none = await createHealth({ checks: {} }).ready();
    expect(none).toEqual({ httpStatus: 200, body: { status: 'pass', timestamp: expect.any(String), checks: {} } });
  });

  it('turns a synchronous throw into a failed check, never a rejection', async () => {
    const run = (() => {
      throw new Error('bad config');
    }) as unknown as HealthCheck['run'];
    const answer = await createHealth({ checks: { x: { run } } }).ready();
    expect(answer.body.checks.x).toMatchObject({ status: 'fail', error: 'bad config' });
  });

  it('publishes error messages of at most 200 characters without stack traces', async () => {
    const answer = await createHealth({ checks: { long: failing('x'.repeat(500)) } }).ready();
    expect(answer.body.checks.long?.error).toHaveLength(200);
    expect(JSON.stringify(answer.body)).not.toContain('    at ');

    const leaky = new Error(`query failed\n    at Client.query (/app/node_modules/pg/lib/client.js:1:1)\n    at run (/app/x.js:2:2)`);
    expect(describeError(leaky)).toBe('query failed');
    expect(describeError('plain string')).toBe('plain string');
    expect(describeError(new TypeError(''))).toBe('TypeError');
    expect(describeError(42)).toBe('42');
  });

  it('shares one run among concurrent calls (single-flight)', async () => {
    let runs = 0;
    const health = createHealth({
      checks: {
        db: {
          run: async (signal) => {
            runs += 1;
            await sleep(50, signal);
            return runs;
          },
        },
      },
    });
    const answers = await Promise.all([health.ready(), health.ready(), health.ready()]);
    expect(runs).toBe(1);
    expect(answers[1]).toBe(answers[0]);
    expect(answers[2]).toBe(answers[0]);
    await health.ready();
    expect(runs).toBe(2);
  });

  it('reuses an answer for cacheMs, then runs again', async () => {
    vi.useFakeTimers();
    const run = vi.fn(async () => 'ok');
    const health = createHealth({ cacheMs: 1000, checks: { db: { run } } });
    const first = await health.ready();
    await vi.advanceTimersByTimeAsync(999);
    expect(await health.ready()).toBe(first);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    const third = await health.ready();
    expect(third).not.toBe(first);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('caches failures too, so a failing dependency is not hammered', async () => {
    const run = vi.fn(async () => {
      throw new Error('down');
    });
    const health = createHealth({ cacheMs: 60_000, checks: { db: { run } } });
    await health.ready();
    const again = await health.ready();
    expect(again.httpStatus).toBe(503);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('rejects invalid options with a message that says what to fix', () => {
    expect(() => createHealth({ checks: {}, timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
    expect(() => createHealth({ checks: {}, cacheMs: -1 })).toThrow(/cacheMs must be a non-negative/);
    expect(() => createHealth({ checks: { db: { run: async () => {}, timeoutMs: Number.NaN } } })).toThrow(/checks\.db\.timeoutMs/);
    expect(() => createHealth({ checks: { db: {} as HealthCheck } })).toThrow(/check "db" has no run/);
  });
});
