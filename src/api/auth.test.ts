import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateToken } from '../auth/index.js';
import { createMetricsRegistry, registerCoreMetrics } from '../metrics/index.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { createApiApp } from './app.js';
import { FailureThrottle } from './auth.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const done of cleanup.splice(0)) await done();
});

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-auth-'));
  const store: Store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  await store.migrate();
  cleanup.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const good = generateToken();
  await store.createToken({ name: 'ops', hash: good.hash, prefix: good.prefix });
  const { log, lines } = memoryLogger();
  const clock = { now: 1_700_000_000_000 };
  const registry = createMetricsRegistry('test');
  const app = createApiApp({
    store, registry, metrics: registerCoreMetrics(registry), log, isReady: () => true, authThrottle: new FailureThrottle(log, () => clock.now),
    currentConfig: () => ({ file: 'x', checksum: 'x', appliedAt: 'x', config: {} }), status: () => ({}),
  });
  const call = async (token: string) => app.request('/api/v1/status', { headers: { authorization: `Bearer ${token}` } });
  return { call, lines, clock, good: good.token };
}

describe('refused API tokens', () => {
  it('300 wrong tokens in a row: the first few are checked, the rest refused with 429 and Retry-After, each failure logged without the token', async () => {
    const { call, lines, clock, good } = await setup();
    const wrong = Array.from({ length: 300 }, () => generateToken().token);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (const token of wrong) {
      const res = await call(token);
      statuses.push(res.status);
      if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
    }
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6).every((s) => s === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

    const refused = lines.filter((l) => l.msg === 'API token refused');
    expect(refused).toHaveLength(6);
    expect(refused[0]).toMatchObject({ level: 40, client: 'unknown', path: '/api/v1/status', token_prefix: 'bwk_', failures: 1 });
    const logged = JSON.stringify(lines);
    for (const token of wrong) expect(logged).not.toContain(token.slice(4, 16));

    // Blocked: even the right token waits; once the block is over it gets through and clears the count.
    expect((await call(good)).status).toBe(429);
    clock.now += 5_001;
    expect((await call(good)).status).toBe(200);
    expect((await call(wrong[0] as string)).status).toBe(401);
  });

  it('doubles the wait with each further failure, to 5 s at most', async () => {
    const { log } = memoryLogger();
    const clock = { now: 0 };
    const throttle = new FailureThrottle(log, () => clock.now);
    const waits: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      throttle.failed('10.0.0.1', { path: '/x', presented: 'secret-token', what: 'test' });
      waits.push(throttle.retryAfterMs('10.0.0.1'));
    }
    expect(waits).toEqual([0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(throttle.retryAfterMs('10.0.0.2')).toBe(0);
  });

  it('keeps a bounded number of addresses', () => {
    const { log } = memoryLogger();
    const throttle = new FailureThrottle(log);
    log.level = 'silent';
    for (let i = 0; i < 10_050; i += 1) throttle.failed(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, { path: '/x', presented: '', what: 'test' });
    expect(throttle.size).toBe(10_000);
  });
});
