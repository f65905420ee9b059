import { describe, expect, it } from 'vitest';
import { StopCondition, type Breach } from './stop-condition.js';
import type { RequestResult } from './traffic.js';
import { failoverMs } from './zone-drill.js';

const r = (doneAt: number, ok: boolean, sentAt = doneAt - 10): RequestResult => ({ sentAt, doneAt, ok });

describe('StopCondition', () => {
  it('fires once when the error rate over the window passes the bound, not before min_requests answered', () => {
    const breaches: Breach[] = [];
    const stop = new StopCondition({ errorRate: 0.1, windowMs: 1000, minRequests: 5 }, (b) => breaches.push(b));
    stop.observe(r(0, false));
    stop.observe(r(10, false));
    expect(breaches).toEqual([]);
    for (let t = 20; t < 60; t += 10) stop.observe(r(t, true));
    expect(breaches).toHaveLength(1);
    expect(breaches[0]).toMatchObject({ failed: 2, total: 5, at: 40 });
    stop.observe(r(70, false));
    expect(breaches).toHaveLength(1);
  });

  it('forgets answers older than the window', () => {
    const breaches: Breach[] = [];
    const stop = new StopCondition({ errorRate: 0.5, windowMs: 100, minRequests: 2 }, (b) => breaches.push(b));
    stop.observe(r(0, false));
    stop.observe(r(200, true));
    stop.observe(r(210, true));
    expect(breaches).toEqual([]);
  });

  it('measures the burn rate against the tier\'s error budget', () => {
    const breaches: Breach[] = [];
    const stop = new StopCondition({ burnRate: 15, availability: 0.999, windowMs: 1000, minRequests: 10 }, (b) => breaches.push(b));
    for (let t = 0; t < 98; t++) stop.observe(r(t, true));
    stop.observe(r(100, false));
    expect(breaches).toEqual([]);
    stop.observe(r(101, false));
    expect(breaches[0]?.reason).toMatch(/burn rate 20\.0 passed the bound 15/);
  });
});

describe('failoverMs', () => {
  it('is the answer to the first request sent after the last failure while the zone was out', () => {
    const results = [r(105, true, 100), r(160, false, 110), r(150, true, 120), r(190, true, 170), r(400, true, 300)];
    expect(failoverMs(results, 100, 350)).toBe(50);
    expect(failoverMs([r(130, true, 120)], 100, 350)).toBe(30);
    expect(failoverMs([r(130, false, 120)], 100, 350)).toBeUndefined();
  });
});
