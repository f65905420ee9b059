import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../core/net.js';
import { EtcdClient, type WatchEvent } from './etcd-client.js';
import { EtcdCluster } from '../testing/etcd-cluster.js';
import { describeStats, rejection, round, stats } from './testing/measure.js';
import { TcpRelay } from '../testing/tcp-relay.js';

let cluster: EtcdCluster;
let client: EtcdClient;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start();
  client = new EtcdClient({ endpoints: cluster.clientUrls(), timeoutMs: 2000 });
});

afterAll(async () => {
  for (const close of closers) await close();
  await client?.close();
  await cluster?.stopAll();
});

async function collect(key: string, from: number, count: number): Promise<WatchEvent[]> {
  const controller = new AbortController();
  const events: WatchEvent[] = [];
  for await (const event of client.watch(key, from, controller.signal)) {
    events.push(event);
    if (events.length === count) controller.abort();
  }
  return events;
}

describe('EtcdClient against a 3-member cluster', () => {
  it('puts, gets and deletes keys', async () => {
    expect((await client.get('crud/a')).kv).toBeUndefined();
    const r1 = await client.put('crud/a', 'één');
    const r2 = await client.put('crud/a', 'two');
    expect(r2).toBeGreaterThan(r1);
    const { kv, revision } = await client.get('crud/a');
    expect(kv).toEqual({ key: 'crud/a', value: 'two', createRevision: r1, modRevision: r2, version: 2, lease: undefined });
    expect(revision).toBeGreaterThanOrEqual(r2);
    await client.put('crud/a', '');
    expect((await client.get('crud/a')).kv?.value).toBe('');
    expect(await client.delete('crud/a')).toBe(true);
    expect(await client.delete('crud/a')).toBe(false);
  });

  it('createIfAbsent: of two contenders exactly one wins, and the loser sees the winner', async () => {
    const [a, b] = await Promise.all([client.createIfAbsent('cas/leader', 'a', undefined), client.createIfAbsent('cas/leader', 'b', undefined)]);
    const winner = a.succeeded ? a : b;
    const loser = a.succeeded ? b : a;
    expect([a.succeeded, b.succeeded].filter(Boolean)).toHaveLength(1);
    expect(loser.succeeded).toBe(false);
    if (loser.succeeded || !winner.succeeded) return;
    expect(loser.current?.value).toBe(a.succeeded ? 'a' : 'b');
    expect(loser.current?.modRevision).toBe(winner.revision);
  });

  it('compareAndSwap and deleteIfRevision act only on the expected revision', async () => {
    const r1 = await client.put('cas/x', 'v1');
    const swapped = await client.compareAndSwap('cas/x', r1, 'v2', undefined);
    expect(swapped.succeeded).toBe(true);
    const stale = await client.compareAndSwap('cas/x', r1, 'v3', undefined);
    expect(stale).toMatchObject({ succeeded: false, current: { value: 'v2' } });
    const r2 = swapped.revision;
    const both = await Promise.all([client.compareAndSwap('cas/x', r2, 'p', undefined), client.compareAndSwap('cas/x', r2, 'q', undefined)]);
    expect(both.filter((r) => r.succeeded)).toHaveLength(1);
    const now = (await client.get('cas/x')).kv?.modRevision ?? 0;
    expect(await client.deleteIfRevision('cas/x', r1)).toBe(false);
    expect(await client.deleteIfRevision('cas/x', now)).toBe(true);
    expect((await client.get('cas/x')).kv).toBeUndefined();
  });

  it('binds keys to leases: revoking deletes them, keepalive then says 0, a put on the gone lease is LEASE_LOST', async () => {
    const lease = await client.grantLease(10);
    expect(lease.ttlSeconds).toBe(10);
    await client.put('lease/k', 'v', { lease: lease.id });
    expect((await client.get('lease/k')).kv?.lease).toBe(lease.id);
    expect(await client.keepAliveOnce(lease.id)).toBe(10);
    await client.revokeLease(lease.id);
    expect((await client.get('lease/k')).kv).toBeUndefined();
    expect(await client.keepAliveOnce(lease.id)).toBe(0);
    const { error } = await rejection(client.put('lease/k', 'v', { lease: lease.id }), 'LEASE_LOST');
    expect(error.hint).toMatch(/campaign again/);
    await client.revokeLease(lease.id);
  });

  it('watch replays from the revision asked for and sees puts and the delete', async () => {
    const from = (await client.get('watch/k')).revision + 1;
    await client.put('watch/k', 'one');
    const events = collect('watch/k', from, 3);
    await client.put('watch/k', 'two');
    await client.delete('watch/k');
    expect((await events).map((e) => [e.type, e.kv.value])).toEqual([['put', 'one'], ['put', 'two'], ['delete', '']]);
  });

  it('watch from a compacted revision fails with WATCH_COMPACTED', async () => {
    const old = await client.put('watch/c', '1');
    const now = await client.put('watch/c', '2');
    const res = await fetch(`${cluster.clientUrls()[0]}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(now), physical: true }) });
    expect(res.status).toBe(200);
    const { error } = await rejection(collect('watch/c', old, 1), 'WATCH_COMPACTED');
    expect(error.context.compactRevision).toBe(now);
  });

  it('a watch whose connection breaks fails with COORDINATION_UNAVAILABLE and says where to resume', async () => {
    const relay = await TcpRelay.start(cluster.clientUrls()[1] ?? '');
    const viaRelay = new EtcdClient({ endpoints: [relay.url] });
    closers.push(() => viaRelay.close(), () => relay.close());
    const from = await client.put('watch/b', '1');
    const seen: WatchEvent[] = [];
    const watching = (async () => {
      for await (const event of viaRelay.watch('watch/b', from, AbortSignal.timeout(5000))) {
        seen.push(event);
        relay.cut('reset');
      }
    })();
    const { error } = await rejection(watching, 'COORDINATION_UNAVAILABLE');
    expect(seen.map((e) => e.kv.value)).toEqual(['1']);
    expect(error.context.nextRevision).toBe(from + 1);
  });

  it('expires a lease after its TTL and deletes its key, no sooner than TTL after the grant was sent', async ({ annotate }) => {
    const lags = await Promise.all([0, 150, 300].map(async (offset, i) => {
      await new Promise((resolve) => setTimeout(resolve, offset));
      const key = `expiry/${i}`;
      const sentAt = performance.now();
      const lease = await client.grantLease(1);
      const revision = await client.put(key, 'v', { lease: lease.id });
      const [deleted] = await collect(key, revision + 1, 1);
      expect(deleted?.type).toBe('delete');
      return performance.now() - (sentAt + 1000);
    }));
    for (const lag of lags) expect(lag).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lags)).toBeLessThan(1500);
    await annotate(`expired key deleted after the 1 s TTL by: ${lags.map(round).join(', ')} ms (grant sent -> delete seen by a watch)`);
  });

  it('keepalive round trip', async ({ annotate }) => {
    const lease = await client.grantLease(5);
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) {
      const start = performance.now();
      expect(await client.keepAliveOnce(lease.id)).toBe(5);
      samples.push(performance.now() - start);
    }
    await client.revokeLease(lease.id);
    await annotate(describeStats('keepalive round trip', stats(samples)));
  });

  it('goes on to the next endpoint when one refuses connections, and starts there next time', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const failover = new EtcdClient({ endpoints: [dead, ...cluster.clientUrls()], timeoutMs: 1000 });
    try {
      await failover.put('failover/k', 'v');
      expect(failover.currentEndpoint()).toBe(cluster.clientUrls()[0]);
    } finally {
      await failover.close();
    }
  });

  it('with every endpoint down: COORDINATION_UNAVAILABLE naming each one, fast', async () => {
    const endpoints = [`http://127.0.0.1:${await freePort()}`, `http://user:hunter2@127.0.0.1:${await freePort()}`];
    const down = new EtcdClient({ endpoints, timeoutMs: 1000 });
    try {
      const { error, ms } = await rejection(down.get('k'), 'COORDINATION_UNAVAILABLE');
      expect(error.message).toContain('ECONNREFUSED');
      expect(error.message).toContain(new URL(endpoints[1] ?? '').host);
      expect(error.describe()).not.toContain('hunter2');
      expect(error.hint).toMatch(/endpoint health/);
      expect(ms).toBeLessThan(500);
    } finally {
      await down.close();
    }
  });

  it('pointed at something that is not an etcd client URL (a peer port): COORDINATION_REJECTED', async () => {
    const peer = new EtcdClient({ endpoints: [cluster.members[0]?.peerUrl ?? ''] });
    closers.push(() => peer.close());
    const { error } = await rejection(peer.get('k'), 'COORDINATION_REJECTED');
    expect(error.hint).toMatch(/client URLs/);
  });

  it('a paused member: reads move on to the next member within the call; a write times out and the next starts elsewhere', async () => {
    const paused = cluster.clientUrls()[0] ?? '';
    const c = new EtcdClient({ endpoints: cluster.clientUrls(), timeoutMs: 3000 });
    await c.get('k');
    cluster.pause(0);
    try {
      // If the paused member led, the others elect a new leader first (election timeout 500 ms).
      const start = performance.now();
      await c.get('k');
      expect(performance.now() - start).toBeGreaterThanOrEqual(990);
      expect(c.currentEndpoint()).not.toBe(paused);
      const w = new EtcdClient({ endpoints: cluster.clientUrls(), timeoutMs: 600 });
      closers.push(() => w.close());
      const { error, ms } = await rejection(w.put('k', 'v'), 'COORDINATION_UNAVAILABLE');
      expect(error.message).toContain(`${paused} (no answer`);
      expect(error.message).toMatch(/may or may not have been applied/);
      expect(ms).toBeGreaterThanOrEqual(590);
      expect(ms).toBeLessThan(900);
      expect(w.currentEndpoint()).not.toBe(paused);
      await w.put('k', 'v', { timeoutMs: 3000 });
    } finally {
      cluster.resume(0);
      await c.close();
    }
  });
});

describe('EtcdClient with authentication', () => {
  let secured: EtcdCluster;
  const clients: EtcdClient[] = [];
  const make = (username?: string, password?: string): EtcdClient => {
    const c = new EtcdClient({ endpoints: secured.clientUrls(), username, password });
    clients.push(c);
    return c;
  };
  const post = async (path: string, body: object, token?: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${secured.clientUrls()[0]}/v3/${path}`, { method: 'POST', body: JSON.stringify(body), headers: token ? { authorization: token } : {} });
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    secured = await EtcdCluster.start({ size: 1, extraArgs: ['--auth-token-ttl', '1', '--bcrypt-cost', '4'] });
    // The Debian package ships no etcdctl: set auth up through the gateway.
    await post('auth/user/add', { name: 'root', password: 's3cret-pw' });
    await post('auth/role/add', { name: 'root' });
    await post('auth/user/grant', { user: 'root', role: 'root' });
    expect(await post('auth/enable', {})).not.toHaveProperty('error');
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await secured?.stopAll();
  });

  it('authenticates, refuses clearly without or with wrong credentials, never echoes the password', async () => {
    const good = make('root', 's3cret-pw');
    await good.put('auth/k', 'v');
    expect((await good.get('auth/k')).kv?.value).toBe('v');
    const anon = await rejection(make().get('auth/k'), 'COORDINATION_AUTH_FAILED');
    expect(anon.error.hint).toMatch(/authentication enabled/);
    const bad = await rejection(make('root', 'wrong-pw').get('auth/k'), 'COORDINATION_AUTH_FAILED');
    expect(bad.error.hint).toMatch(/username or password/);
    expect(JSON.stringify({ m: bad.error.describe(), c: bad.error.context })).not.toContain('wrong-pw');
  });

  it('authenticates again when its token has expired', async () => {
    const c = make('root', 's3cret-pw');
    await c.get('auth/k');
    const { token } = await post('auth/authenticate', { name: 'root', password: 's3cret-pw' });
    // Tokens live 1 s after their last use here; nothing announces their end.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await post('kv/range', { key: 'YQ==' }, String(token))).toMatchObject({ code: 16 });
    expect((await c.get('auth/k')).kv?.value).toBe('v');
    const events = c.watch('auth/k', 1, AbortSignal.timeout(5000));
    expect((await events.next()).value).toMatchObject({ type: 'put', kv: { value: 'v' } });
    await events.return();
  });
});
