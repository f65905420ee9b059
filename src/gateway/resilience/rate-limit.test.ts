import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBuckets, clientKey } from './rate-limit.js';

describe('TokenBuckets', () => {
  beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(1_000_000); });
  afterEach(() => { vi.useRealTimers(); });

  it('allows the burst, then denies with the time to the next token', () => {
    const b = new TokenBuckets({ ratePerSecond: 10, burst: 5 });
    const results = Array.from({ length: 5 }, () => b.take('k'));
    expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(b.take('k')).toEqual({ allowed: false, retryAfterMs: 100, remaining: 0 });
    vi.advanceTimersByTime(40);
    expect(b.take('k')).toEqual({ allowed: false, retryAfterMs: 60, remaining: 0 });
    vi.advanceTimersByTime(60);
    expect(b.take('k').allowed).toBe(true);
  });

  it('refills at the rate, never beyond burst', () => {
    const b = new TokenBuckets({ ratePerSecond: 2, burst: 3 });
    for (let i = 0; i < 3; i++) b.take('k');
    vi.advanceTimersByTime(1_000); // +2 tokens
    expect(b.take('k')).toMatchObject({ allowed: true, remaining: 1 });
    expect(b.take('k')).toMatchObject({ allowed: true, remaining: 0 });
    expect(b.take('k')).toEqual({ allowed: false, retryAfterMs: 500, remaining: 0 });
    vi.advanceTimersByTime(60_000);
    expect(b.take('k').remaining).toBe(2); // full at 3, not 120
  });

  it('keeps keys apart and defaults burst to one second of rate', () => {
    const b = new TokenBuckets({ ratePerSecond: 2.5 });
    const takes = Array.from({ length: 4 }, () => b.take('a').allowed);
    expect(takes).toEqual([true, true, true, false]); // burst ceil(2.5) = 3
    expect(b.take('b').allowed).toBe(true);
  });

  it('never holds more than maxKeys buckets, evicting the least recently used', () => {
    const b = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) b.take(k);
    b.take('a'); // a is now most recent (and denied)
    b.take('d'); // evicts b
    expect(b.size).toBe(3);
    expect(b.take('a').allowed).toBe(false); // a kept its debt
    expect(b.take('b').allowed).toBe(true); // b was forgotten: fresh bucket (evicts c)
    for (let i = 0; i < 1_000; i++) b.take(`x${i}`);
    expect(b.size).toBe(3);
  });

  it('prune drops buckets that refilled to full', () => {
    const b = new TokenBuckets({ ratePerSecond: 1, burst: 2 });
    b.take('a');
    vi.advanceTimersByTime(500);
    b.take('b');
    vi.advanceTimersByTime(500); // a full again, b at 1.5
    expect(b.prune()).toBe(1);
    expect(b.size).toBe(1);
  });
});

describe('clientKey', () => {
  const req = (headers: Record<string, string | string[] | undefined>, remoteAddress = '203.0.113.7') => ({ remoteAddress, headers });

  it('uses the socket address, not X-Forwarded-For, for client_ip', () => {
    expect(clientKey(req({ 'x-forwarded-for': '1.1.1.1' }), 'client_ip')).toBe('ip:203.0.113.7');
    expect(clientKey(req({}, '::ffff:10.0.0.1'), 'client_ip')).toBe('ip:10.0.0.1');
    expect(clientKey(req({}, '2001:DB8::1'), 'client_ip')).toBe('ip:2001:db8::1');
    expect(clientKey({ headers: {} }, 'client_ip')).toBe('ip:unknown');
  });

  it('uses the named header, falling back to the client IP when it is missing or empty', () => {
    expect(clientKey(req({ 'x-api-key': 'k1' }), 'header:X-Api-Key')).toBe('hdr:k1');
    expect(clientKey(req({}), 'header:X-Api-Key')).toBe('ip:203.0.113.7');
    expect(clientKey(req({ 'x-api-key': '  ' }), 'header:X-Api-Key')).toBe('ip:203.0.113.7');
  });

  it('takes the last X-Forwarded-For entry, the one the trusted proxy appended', () => {
    expect(clientKey(req({ 'x-forwarded-for': 'spoofed, 198.51.100.4' }), 'header:x-forwarded-for')).toBe('hdr:198.51.100.4');
    expect(clientKey(req({ 'x-forwarded-for': ['a', 'b, 198.51.100.5'] }), 'header:X-Forwarded-For')).toBe('hdr:198.51.100.5');
  });
});
