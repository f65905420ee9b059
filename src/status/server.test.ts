import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { RateLimiter } from './rate-limit.js';
import { StatusPageServer } from './server.js';
import { FakeProbes, MemoryStatusStore, statusConfig } from './testing/fixtures.js';

const servers: StatusPageServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop(AbortSignal.timeout(1_000));
});

function server(config: Record<string, unknown>, now = () => Date.now()) {
  const s = new StatusPageServer({ config: statusConfig(config), probes: new FakeProbes(), store: new MemoryStatusStore(), log: silentLogger(), now });
  servers.push(s);
  return s;
}

const SERVICES = { api: { endpoints: [{ url: 'http://127.0.0.1:1' }] }, web: { endpoints: [{ url: 'http://127.0.0.1:2' }] } };

describe('StatusPageServer', () => {
  it('stays idle without status_page, and a reload opens, retitles and closes the listener', async () => {
    let now = 1_000_000;
    const s = server({ services: SERVICES }, () => now);
    await s.start();
    expect(s.address()).toBeNull();

    await s.reload(statusConfig({ services: SERVICES, status_page: { title: 'First', listen: '127.0.0.1:0', services: ['api'] } }));
    const address = s.address()!;
    const first = await (await fetch(`http://127.0.0.1:${address.port}/api/v2/components.json`)).json() as { page: { name: string }; components: Array<{ name: string }> };
    expect(first.page.name).toBe('First');
    expect(first.components.filter((c) => !('components' in c)).map((c) => c.name)).toEqual(['api']);

    now += 1;
    await s.reload(statusConfig({ services: SERVICES, status_page: { title: 'Second', listen: '127.0.0.1:0', services: ['web', 'api'] } }));
    expect(s.address()?.port).toBe(address.port);
    const html = await (await fetch(`http://127.0.0.1:${address.port}/`)).text();
    expect(html).toContain('<title>Second</title>');
    expect(html.indexOf('>web<')).toBeLessThan(html.indexOf('>api<'));

    await s.reload(statusConfig({ services: SERVICES }));
    expect(s.address()).toBeNull();
    await expect(fetch(`http://127.0.0.1:${address.port}/`)).rejects.toThrow();
  });

  it('fails to start with the key to change when the address is taken', async () => {
    const a = server({ services: SERVICES, status_page: { title: 'x', listen: '127.0.0.1:0' } });
    await a.start();
    const b = server({ services: SERVICES, status_page: { title: 'x', listen: `127.0.0.1:${a.address()!.port}` } });
    await expect(b.start()).rejects.toThrow(/the status page cannot listen on 127\.0\.0\.1:\d+ \(status_page\.listen\): the address is already in use/);
  });
});

describe('StatusPageServer.snapshot', () => {
  it('serves the last good state while the store cannot be read, and fails only without one', async () => {
    let now = 0;
    const store = new MemoryStatusStore();
    const s = new StatusPageServer({ config: statusConfig({ services: SERVICES, status_page: { title: 'x' } }), probes: new FakeProbes(), store, log: silentLogger(), now: () => now });
    const broken = () => Promise.reject(new Error('database is locked'));
    const read = store.stateChanges.bind(store);
    store.stateChanges = broken;
    await expect(s.snapshot()).rejects.toThrow('database is locked');
    store.stateChanges = read;
    const good = await s.snapshot();
    now += 10_000;
    store.stateChanges = broken;
    expect(await s.snapshot()).toBe(good);
    store.stateChanges = read;
    expect((await s.snapshot()).at).toBe(now);
  });
});

describe('RateLimiter', () => {
  it('refills over time and keeps at most maxClients buckets', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now, 100);
    for (let i = 0; i < 60; i++) expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterS: 1 });
    now += 1_000;
    expect(limiter.take('a').ok).toBe(true);
    for (let i = 0; i < 10_000; i++) limiter.take(`client-${i}`);
    expect(limiter.size).toBe(100);
  });
});
