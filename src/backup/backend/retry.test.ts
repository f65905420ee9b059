import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../../core/errors.js';
import { unavailable } from './errors.js';
import { backoff, withRetries, type RetryEvent } from './retry.js';
import type { Backend } from './types.js';

/** A backend whose `read` fails with the given errors, in order, then answers. */
function flaky(errors: unknown[]): Backend & { calls: number } {
  const backend = {
    location: 'fake:',
    calls: 0,
    create: async () => {},
    stat: async () => undefined,
    read: async () => {
      backend.calls++;
      const error = errors.shift();
      if (error !== undefined) throw error;
      return Buffer.from('ok');
    },
    write: async () => {},
    remove: async () => {},
    list: async () => [],
    close: async () => {},
  };
  return backend;
}

const fast = { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 };
const down = () => unavailable('cannot reach the server', 'start it', { transient: true });

describe('withRetries', () => {
  it('retries transient failures until one succeeds, reporting each retry', async () => {
    const inner = flaky([down(), Object.assign(new Error('reset'), { code: 'ECONNRESET' })]);
    const events: RetryEvent[] = [];
    const backend = withRetries(inner, { ...fast, onRetry: (event) => events.push(event) });
    expect(await backend.read('data', 'ab')).toEqual(Buffer.from('ok'));
    expect(inner.calls).toBe(3);
    expect(events.map((event) => [event.operation, event.attempt])).toEqual([['read', 1], ['read', 2]]);
    expect(backend.location).toBe('fake:');
  });

  it('gives up after the last attempt with the last error', async () => {
    const inner = flaky([down(), down(), down(), down(), down(), down()]);
    await expect(withRetries(inner, fast).read('data', 'ab')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect(inner.calls).toBe(5);
  });

  it.each([
    ['NOT_FOUND', new BulwarkError('NOT_FOUND', 'missing')],
    ['USAGE', new BulwarkError('USAGE', 'bad name')],
    ['DISK_FULL', new BulwarkError('DISK_FULL', 'full')],
    ['a permanent failure', unavailable('permission denied', 'fix it', { transient: false })],
    ['an unknown error', new Error('boom')],
  ])('never retries %s', async (_label, error) => {
    const inner = flaky([error]);
    await expect(withRetries(inner, fast).read('data', 'ab')).rejects.toBe(error);
    expect(inner.calls).toBe(1);
  });

  it('stops waiting when its signal aborts', async () => {
    const controller = new AbortController();
    const inner = flaky([down(), down(), down()]);
    const backend = withRetries(inner, { attempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal });
    const read = backend.read('data', 'ab');
    setTimeout(() => controller.abort(), 20);
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    expect(inner.calls).toBe(1);
  });

  it('backs off exponentially with jitter, capped', () => {
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 50; i++) {
      expect(backoff(options, 1)).toBeGreaterThanOrEqual(50);
      expect(backoff(options, 1)).toBeLessThanOrEqual(100);
      expect(backoff(options, 3)).toBeGreaterThanOrEqual(200);
      expect(backoff(options, 3)).toBeLessThanOrEqual(400);
      expect(backoff(options, 10)).toBeLessThanOrEqual(1000);
      expect(backoff(options, 10)).toBeGreaterThanOrEqual(500);
    }
  });

  it('rejects nonsense options', () => {
    expect(() => withRetries(flaky([]), { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
