import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConcurrencyLimiter, acquireBoth, type AcquireResult } from './limits.js';

function released(r: AcquireResult): () => void {
  if (!r.ok) throw new Error('expected a slot');
  return r.release;
}

describe('ConcurrencyLimiter', () => {
  beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(0); });
  afterEach(() => { vi.useRealTimers(); });

  it('grants at once under maxConnections', async () => {
    const l = new ConcurrencyLimiter({ maxConnections: 2, maxPending: 0 });
    const a = await l.acquire();
    const b = await l.acquire();
    expect(a.ok && b.ok).toBe(true);
    expect(l.active).toBe(2);
  });

  it('queues FIFO and hands the slot over on release', async () => {
    const l = new ConcurrencyLimiter({ maxConnections: 1, maxPending: 3 });
    const first = released(await l.acquire());
    const order: string[] = [];
    const waits = ['x', 'y', 'z'].map((n) => l.acquire().then((r) => { order.push(n); return released(r); }));
    expect(l.pending).toBe(3);
    first();
    first(); // idempotent: must not free a second slot
    const x = await waits[0]!;
    expect(order).toEqual(['x']);
    expect(l.active).toBe(1);
    x();
    (await waits[1]!)();
    (await waits[2]!)();
    expect(order).toEqual(['x', 'y', 'z']);
    expect(l.active).toBe(0);
    expect(l.pending).toBe(0);
  });

  it('answers overloaded beyond maxPending with Retry-After at least 1', async () => {
    const l = new ConcurrencyLimiter({ maxConnections: 1, maxPending: 1 });
    await l.acquire();
    void l.acquire();
    expect(await l.acquire()).toEqual({ ok: false, reason: 'overloaded', retryAfterSeconds: 1 });
  });

  it('Retry-After from the completion rate: 10 pending at 2/s → ceil(11 / 2) = 6', async () => {
    const l = new ConcurrencyLimiter({ maxConnections: 1, maxPending: 10 });
    for (let i = 0; i < 20; i++) released(await l.acquire())(); // 20 completions in 10 s
    await l.acquire();
    for (let i = 0; i < 10; i++) void l.acquire();
    const r = await l.acquire();
    expect(r).toEqual({ ok: false, reason: 'overloaded', retryAfterSeconds: 6 });
  });

  it('removes an aborted waiter from the queue and rejects it', async () => {
    const l = new ConcurrencyLimiter({ maxConnections: 1, maxPending: 2 });
    const first = released(await l.acquire());
    const ac = new AbortController();
    const aborted = l.acquire(ac.signal);
    const next = l.acquire();
    ac.abort(new Error('client gone'));
    await expect(aborted).rejects.toThrow('client gone');
    expect(l.pending).toBe(1);
    first();
    expect((await next).ok).toBe(true);
  });

  it('rejects at once for an already aborted signal', async () => {
    const l = new ConcurrencyLimiter({ maxConnections: 1, maxPending: 1 });
    await expect(l.acquire(AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
    expect(l.active).toBe(0);
  });
});

describe('acquireBoth', () => {
  it('gives the outer slot back when the inner one is refused', async () => {
    const outer = new ConcurrencyLimiter({ maxConnections: 5, maxPending: 0 });
    const inner = new ConcurrencyLimiter({ maxConnections: 1, maxPending: 0 });
    const a = released(await acquireBoth(outer, inner));
    expect((await acquireBoth(outer, inner)).ok).toBe(false);
    expect(outer.active).toBe(1);
    a();
    expect(outer.active + inner.active).toBe(0);
  });
});
