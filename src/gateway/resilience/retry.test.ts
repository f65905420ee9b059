import { describe, expect, it } from 'vitest';
import { RetryPolicy, retryClasses, type AttemptOutcome, type RetryOn } from './retry.js';

describe('retryClasses', () => {
  const table: Array<[AttemptOutcome, number | undefined, RetryOn[]]> = [
    ['response', 200, []],
    ['response', 404, []],
    ['response', 500, ['5xx']],
    ['response', 501, ['5xx']],
    ['response', 502, ['5xx', 'gateway-error']],
    ['response', 503, ['5xx', 'gateway-error']],
    ['response', 504, ['5xx', 'gateway-error']],
    ['response', 599, ['5xx']],
    ['per_try_timeout', undefined, ['5xx', 'gateway-error']],
    ['reset', undefined, ['5xx', 'gateway-error', 'reset']],
    ['connect_failure', undefined, ['5xx', 'gateway-error', 'connect-failure']],
    ['refused_stream', undefined, ['5xx', 'gateway-error', 'reset', 'refused-stream']],
  ];
  it.each(table)('%s %s → %j', (outcome, status, classes) => {
    expect(retryClasses(outcome, status)).toEqual(classes);
  });
});

describe('RetryPolicy.shouldRetry', () => {
  const p = (retryOn: RetryOn[], nonIdempotent = false) => new RetryPolicy({ attempts: 2, retryOn, nonIdempotent });

  it('retries only what retry_on names', () => {
    const policy = p(['reset', 'connect-failure']);
    expect(policy.shouldRetry({ attempt: 1, method: 'GET', outcome: 'reset' })).toBe(true);
    expect(policy.shouldRetry({ attempt: 1, method: 'GET', outcome: 'response', status: 503 })).toBe(false);
    expect(policy.shouldRetry({ attempt: 1, method: 'GET', outcome: 'per_try_timeout' })).toBe(false);
    const gw = p(['gateway-error']);
    expect(gw.shouldRetry({ attempt: 1, method: 'GET', outcome: 'response', status: 503 })).toBe(true);
    expect(gw.shouldRetry({ attempt: 1, method: 'GET', outcome: 'response', status: 500 })).toBe(false);
    expect(gw.shouldRetry({ attempt: 1, method: 'GET', outcome: 'per_try_timeout' })).toBe(true);
  });

  it('stops after `attempts` retries', () => {
    const policy = p(['5xx']);
    expect(policy.shouldRetry({ attempt: 2, method: 'GET', outcome: 'response', status: 500 })).toBe(true);
    expect(policy.shouldRetry({ attempt: 3, method: 'GET', outcome: 'response', status: 500 })).toBe(false);
  });

  it('does not retry POST unless non_idempotent or overridden', () => {
    const q = { attempt: 1, method: 'post', outcome: 'response' as const, status: 503 };
    expect(p(['5xx']).shouldRetry(q)).toBe(false);
    expect(p(['5xx']).shouldRetry({ ...q, outcome: 'reset' })).toBe(false);
    expect(p(['5xx'], true).shouldRetry(q)).toBe(true);
    expect(p(['5xx']).shouldRetry({ ...q, idempotentOverride: true })).toBe(true);
    expect(p(['5xx']).shouldRetry({ ...q, method: 'GET', idempotentOverride: false })).toBe(false);
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']) {
      expect(p(['5xx']).shouldRetry({ ...q, method: m })).toBe(true);
    }
    expect(p(['5xx']).shouldRetry({ ...q, method: 'PATCH' })).toBe(false);
  });

  it('retries POST when the request never reached the upstream', () => {
    const policy = p(['connect-failure', 'refused-stream']);
    expect(policy.shouldRetry({ attempt: 1, method: 'POST', outcome: 'connect_failure' })).toBe(true);
    expect(policy.shouldRetry({ attempt: 1, method: 'POST', outcome: 'refused_stream' })).toBe(true);
  });

  it('builds from the config block', () => {
    const policy = RetryPolicy.fromConfig({ attempts: 0, retry_on: ['5xx'], non_idempotent: false });
    expect(policy.shouldRetry({ attempt: 1, method: 'GET', outcome: 'response', status: 500 })).toBe(false);
  });
});

describe('RetryPolicy.backoffMs', () => {
  it('full jitter under ceilings 25, 50, 100, 200, 250, 250', () => {
    const top = new RetryPolicy({ attempts: 5, retryOn: [], random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map((a) => top.backoffMs(a))).toEqual([24, 49, 99, 199, 249, 249]);
    const zero = new RetryPolicy({ attempts: 5, retryOn: [], random: () => 0 });
    expect(zero.backoffMs(3)).toBe(0);
    const half = new RetryPolicy({ attempts: 5, retryOn: [], backoffBaseMs: 100, backoffMaxMs: 1000, random: () => 0.5 });
    expect([1, 2, 3, 4, 5].map((a) => half.backoffMs(a))).toEqual([50, 100, 200, 400, 500]);
  });

  it('stays within [0, max) for a seeded random sequence', () => {
    let seed = 42;
    const lcg = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const policy = new RetryPolicy({ attempts: 5, retryOn: [], random: lcg });
    for (let a = 1; a <= 50; a++) {
      const ms = policy.backoffMs(a);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(Math.min(250, 25 * 2 ** (a - 1)));
    }
  });
});
