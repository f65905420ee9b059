import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryBudget } from './retry-budget.js';

describe('RetryBudget', () => {
  beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(0); });
  afterEach(() => { vi.useRealTimers(); });

  it('at 20%: 100 requests allow exactly 20 retries in the window (no floor)', () => {
    const b = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0 });
    for (let i = 0; i < 100; i++) b.recordRequest();
    let granted = 0;
    for (let i = 0; i < 50; i++) if (b.tryAcquire()) granted++;
    expect(granted).toBe(20);
    expect(b.snapshot()).toEqual({ requests: 100, retries: 20, allowed: 20 });
  });

  it('the floor of 3/s × 10 s = 30 wins over 20% of 100', () => {
    const b = new RetryBudget({ ratio: 0.2 });
    for (let i = 0; i < 100; i++) b.recordRequest();
    let granted = 0;
    for (let i = 0; i < 50; i++) if (b.tryAcquire()) granted++;
    expect(granted).toBe(30);
  });

  it('100 req/s for 10 s at 20% → 200 retries per window, 20/s', () => {
    const b = new RetryBudget({ ratio: 0.2 });
    for (let s = 0; s < 10; s++) {
      vi.setSystemTime(s * 1000);
      for (let i = 0; i < 100; i++) b.recordRequest();
    }
    expect(b.allowed()).toBe(200);
  });

  it('old requests and retries leave the window', () => {
    const b = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0 });
    for (let i = 0; i < 100; i++) b.recordRequest();
    for (let i = 0; i < 20; i++) b.tryAcquire();
    expect(b.canRetry()).toBe(false);
    vi.setSystemTime(10_000);
    expect(b.snapshot()).toEqual({ requests: 0, retries: 0, allowed: 0 });
    for (let i = 0; i < 5; i++) b.recordRequest();
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
  });
});
