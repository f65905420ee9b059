import { describe, expect, it } from 'vitest';
import { OutlierDetector, maxEjected, type EjectEvent } from './outlier.js';

function setup(opts: { gateway?: number; fraction?: number; pool?: string[] } = {}) {
  let t = 0;
  const ejects: EjectEvent[] = [];
  const returns: string[] = [];
  const skips: string[] = [];
  const d = new OutlierDetector({
    consecutiveErrors: 3, consecutiveGatewayErrors: opts.gateway, baseEjectionMs: 30_000,
    maxEjectionFraction: opts.fraction ?? 0.5, now: () => t,
    onEject: (e) => ejects.push(e), onReturn: (e) => returns.push(e.id), onSkip: (e) => skips.push(e.id),
  });
  d.setPoolSize(opts.pool ?? ['a', 'b', 'c', 'd']);
  return { d, ejects, returns, skips, at: (ms: number) => { t = ms; } };
}

describe('OutlierDetector', () => {
  it('ejects at exactly N consecutive errors, for base × 1', () => {
    const { d, ejects } = setup();
    d.record('a', '5xx');
    d.record('a', 'connect_failure');
    expect(d.isEjected('a')).toBe(false);
    d.record('a', 'reset');
    expect(d.isEjected('a')).toBe(true);
    expect(d.ejectedUntil('a')).toBe(30_000);
    expect(ejects).toEqual([{ id: 'a', untilMs: 30_000, times: 1, reason: 'consecutive_errors' }]);
  });

  it('a success resets the streak', () => {
    const { d } = setup();
    d.record('a', '5xx');
    d.record('a', '5xx');
    d.record('a', 'success');
    d.record('a', '5xx');
    d.record('a', '5xx');
    expect(d.isEjected('a')).toBe(false);
    d.record('a', '5xx');
    expect(d.isEjected('a')).toBe(true);
  });

  it('gateway detector counts only gateway errors; a plain 5xx breaks its streak', () => {
    const { d, ejects } = setup({ gateway: 2 });
    d.record('a', 'gateway_error');
    d.record('a', '5xx'); // errors 2, gateway streak back to 0
    expect(d.isEjected('a')).toBe(false);
    d.record('b', 'timeout');
    d.record('b', 'gateway_error');
    expect(ejects.map((e) => [e.id, e.reason])).toEqual([['b', 'consecutive_gateway_errors']]);
  });

  it('returns after the ejection time and fires onReturn', () => {
    const { d, returns, at } = setup();
    for (let i = 0; i < 3; i++) d.record('a', '5xx');
    at(29_999);
    expect(d.isEjected('a')).toBe(true);
    expect(d.nextReturnAt()).toBe(30_000);
    at(30_000);
    expect(d.isEjected('a')).toBe(false);
    expect(returns).toEqual(['a']);
  });

  it('ignores outcomes of an ejected endpoint', () => {
    const { d, ejects } = setup();
    for (let i = 0; i < 6; i++) d.record('a', '5xx');
    expect(ejects).toHaveLength(1);
  });

  it('ejects longer the second time (base × 2), and decays one step per healthy base', () => {
    const { d, ejects, at } = setup();
    for (let i = 0; i < 3; i++) d.record('a', '5xx'); // t=0 → until 30 s
    at(50_000); // returned at 30 s, 20 s healthy: no decay yet
    for (let i = 0; i < 3; i++) d.record('a', '5xx');
    expect(ejects[1]).toEqual({ id: 'a', untilMs: 110_000, times: 2, reason: 'consecutive_errors' });
    at(170_000); // returned at 110 s, 60 s healthy = 2 bases → times 2 → 0
    expect(d.ejectionTimes('a')).toBe(0);
    for (let i = 0; i < 3; i++) d.record('a', '5xx');
    expect(ejects[2]).toMatchObject({ untilMs: 200_000, times: 1 });
  });

  it('decays by one after one healthy base: third ejection is base × 2', () => {
    const { d, ejects, at } = setup();
    for (let i = 0; i < 3; i++) d.record('a', '5xx'); // times 1, until 30 s
    at(30_000);
    for (let i = 0; i < 3; i++) d.record('a', '5xx'); // times 2, until 90 s
    at(125_000); // 35 s healthy → one decay: times 1
    expect(d.ejectionTimes('a')).toBe(1);
    for (let i = 0; i < 3; i++) d.record('a', '5xx');
    expect(ejects[2]).toMatchObject({ times: 2, untilMs: 185_000 });
  });

  it('caps the ejection time at maxEjectionMs', () => {
    let t = 0;
    const d = new OutlierDetector({
      consecutiveErrors: 1, baseEjectionMs: 30_000, maxEjectionMs: 45_000, maxEjectionFraction: 1, now: () => t,
    });
    d.setPoolSize(['a', 'b']);
    d.record('a', '5xx');
    t = 30_000;
    d.record('a', '5xx');
    expect(d.ejectedUntil('a')).toBe(75_000);
  });

  it('pool of 3 at 50%: floor(1.5) = 1 ejected at once; the second is skipped', () => {
    const { d, skips, at } = setup({ pool: ['a', 'b', 'c'] });
    for (let i = 0; i < 3; i++) d.record('a', '5xx');
    for (let i = 0; i < 3; i++) d.record('b', '5xx');
    expect(d.isEjected('a')).toBe(true);
    expect(d.isEjected('b')).toBe(false);
    expect(skips).toEqual(['b']);
    at(30_000); // a returns; b's streak restarted, so three more errors
    for (let i = 0; i < 3; i++) d.record('b', '5xx');
    expect(d.isEjected('b')).toBe(true);
  });

  it('maxEjected rounding rule', () => {
    expect(maxEjected(3, 0.5)).toBe(1);
    expect(maxEjected(4, 0.5)).toBe(2);
    expect(maxEjected(5, 0.1)).toBe(1); // floor 0, but at least one
    expect(maxEjected(100, 0.29)).toBe(29); // 0.29 × 100 is 28.999… in floating point
    expect(maxEjected(10, 1)).toBe(10);
    expect(maxEjected(1, 1)).toBe(0); // never eject the only endpoint
    expect(maxEjected(5, 0)).toBe(0);
  });

  it('forgets endpoints removed from the pool and ignores unknown ids', () => {
    const { d } = setup({ pool: ['a', 'b'] });
    for (let i = 0; i < 3; i++) d.record('a', '5xx');
    d.setPoolSize(['b', 'c']);
    expect(d.isEjected('a')).toBe(false);
    for (let i = 0; i < 3; i++) d.record('zz', '5xx');
    expect(d.isEjected('zz')).toBe(false);
    expect(d.ejectedCount()).toBe(0);
  });
});
