import { describe, expect, it } from 'vitest';
import { ResultBuffer } from './buffer.js';
import type { AgentResult } from './types.js';

const result = (n: number): AgentResult => ({ target: `t${n}`, at: n + 1, ok: true, durationMs: 1 });

describe('ResultBuffer', () => {
  it('drops the oldest results beyond its capacity and counts them', () => {
    const buffer = new ResultBuffer(3);
    for (let n = 0; n < 5; n++) buffer.push(result(n));
    expect(buffer.size).toBe(3);
    expect(buffer.dropped).toBe(2);
    expect(buffer.peek(10).map((r) => r.target)).toEqual(['t2', 't3', 't4']);
  });

  it('commits a delivered batch even when some of it was dropped for room meanwhile', () => {
    const buffer = new ResultBuffer(3);
    for (let n = 0; n < 3; n++) buffer.push(result(n));
    const batch = buffer.peek(2); // t0, t1 in flight
    buffer.push(result(3)); // drops t0
    buffer.commit(batch);
    expect(buffer.peek(10).map((r) => r.target)).toEqual(['t2', 't3']);
  });

  it('stays correct across compaction', () => {
    const buffer = new ResultBuffer(10);
    for (let n = 0; n < 5000; n++) {
      buffer.push(result(n));
      buffer.commit(buffer.peek(1));
    }
    expect(buffer.size).toBe(0);
    buffer.push(result(1));
    expect(buffer.peek(5)).toHaveLength(1);
  });
});
