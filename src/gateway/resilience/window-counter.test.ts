import { describe, expect, it } from 'vitest';
import { WindowCounter } from './window-counter.js';

describe('WindowCounter', () => {
  it('counts within the window in 1 s slots and forgets older slots', () => {
    let t = 0;
    const c = new WindowCounter({ windowMs: 10_000, now: () => t });
    c.add();
    t = 999;
    c.add(2);
    t = 5_000;
    c.add();
    expect(c.count()).toBe(4);
    t = 9_999;
    expect(c.count()).toBe(4);
    t = 10_000; // the slot [0, 1000) has left
    expect(c.count()).toBe(1);
    t = 15_000;
    expect(c.count()).toBe(0);
    t = 25_000; // a reused ring slot starts from zero
    c.add();
    expect(c.count()).toBe(1);
  });

  it('rejects a bad shape', () => {
    expect(() => new WindowCounter({ windowMs: 0 })).toThrow(RangeError);
  });
});
