import { once } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from './etcd-client.js';
import { LeaderLease, type LeaderLeaseOptions } from './leader-lease.js';
import { EtcdCluster } from '../testing/etcd-cluster.js';
import { InstrumentedStore } from './testing/instrumented-store.js';
import { describeStats, round, stats } from './testing/measure.js';
import { TcpRelay, type CutMode } from '../testing/tcp-relay.js';

let cluster: EtcdCluster;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start();
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  await cluster?.stopAll();
});

function client(endpoints = cluster.clientUrls()): EtcdClient {
  const c = new EtcdClient({ endpoints, timeoutMs: 1000 });
  closers.push(() => c.close());
  return c;
}

interface Candidate {
  lease: LeaderLease;
  store: InstrumentedStore;
  /** Event name and performance.now() when it fired, in order. */
  log: { event: string; at: number }[];
}

/** ttl 2 s: renew every 400 ms, 500 ms margin, 300 ms per request, so validUntil = sent + 1500 ms. */
function candidate(key: string, value: string, endpoints?: string[], options: Partial<LeaderLeaseOptions> = {}): Candidate {
  const store = new InstrumentedStore(client(endpoints));
  const lease = new LeaderLease({ store, key, value, ttlSeconds: 2, loopWaitMs: 400, safetyMarginMs: 500, requestTimeoutMs: 300, retryWaitMs: 50, ...options });
  const log: Candidate['log'] = [];
  for (const event of ['acquired', 'renewed', 'renewFailed', 'lost', 'deadline', 'released'] as const) {
    lease.on(event, () => log.push({ event, at: performance.now() }));
  }
  closers.push(() => lease.stop());
  return { lease, store, log };
}

const seen = (c: Candidate, event: string): boolean => c.log.some((e) => e.event === event);
const firstAt = (c: Candidate, event: string): number => c.log.find((e) => e.event === event)?.at ?? Number.NaN;

async function relayTo(member: number): Promise<TcpRelay> {
  const relay = await TcpRelay.start(cluster.clientUrls()[member] ?? '');
  closers.push(() => relay.close());
  return relay;
}

describe('LeaderLease against a 3-member etcd cluster', () => {
  it('acquires and renews; a second candidate cannot acquire while it is held, and sees who holds it', async ({ annotate }) => {
    const a = candidate('l/1', 'a');
    const b = candidate('l/1', 'b');
    const rtts: number[] = [];
    a.lease.on('renewed', (info) => rtts.push(info.roundTripMs));
    expect(await a.lease.tryAcquire()).toBe(true);
    expect(await b.lease.tryAcquire()).toBe(false);
    for (let i = 0; i < 3; i++) await once(a.lease, 'renewed');
    expect(await b.lease.tryAcquire()).toBe(false);
    const state = a.lease.state();
    expect(await b.lease.holder()).toMatchObject({ value: 'a', leaseId: state.kind === 'leader' ? state.leaseId : '' });
    expect(a.lease.validUntil).toBeGreaterThan(performance.now());
    expect(seen(a, 'renewFailed')).toBe(false);
    await annotate(describeStats('LeaderLease renewal round trip (keepalive only)', stats(rtts)));
  });

  it('a campaigning candidate acquires as soon as the holder resigns', async ({ annotate }) => {
    const a = candidate('l/2', 'a');
    const b = candidate('l/2', 'b');
    await a.lease.tryAcquire();
    const campaign = b.lease.campaign(AbortSignal.timeout(10_000));
    await once(a.lease, 'renewed'); // b is watching by now
    const resignedAt = performance.now();
    await a.lease.resign();
    await campaign;
    expect(a.log.map((e) => e.event)).toContain('released');
    expect((await a.lease.holder())?.value).toBe('b');
    await annotate(`acquired after the holder resigned: ${round(firstAt(b, 'acquired') - resignedAt)} ms (resign sent -> campaign won)`);
  });

  it('after the holder dies, a candidate acquires only once the lease has expired', async ({ annotate }) => {
    const a = candidate('l/3', 'a');
    const b = candidate('l/3', 'b');
    await a.lease.tryAcquire();
    await once(a.lease, 'renewed');
    a.store.kill();
    const campaign = b.lease.campaign(AbortSignal.timeout(10_000));
    await campaign;
    const earliestExpiry = a.store.lastKeepAliveSentAt + 2000;
    const win = b.store.firstWin;
    expect(win?.answeredAt).toBeGreaterThan(earliestExpiry);
    await annotate(`candidate acquired ${round((win?.answeredAt ?? 0) - earliestExpiry)} ms after the holder's lease could first expire (last keepalive sent + TTL 2 s)`);
  });

  it('cut off from etcd, the holder gets deadline strictly before anyone else can take the key', async ({ annotate }) => {
    const relay = await relayTo(0);
    const a = candidate('l/4', 'a', [relay.url]);
    const b = candidate('l/4', 'b');
    await a.lease.tryAcquire();
    await once(a.lease, 'renewed');
    relay.cut('hang');
    const cutAt = performance.now();
    const [deadline] = await once(a.lease, 'deadline');
    await b.lease.campaign(AbortSignal.timeout(10_000));
    const win = b.store.firstWin;
    if (!win) throw new Error('b did not record its win');
    expect(deadline.firedAt).toBeLessThan(win.sentAt);
    expect(deadline.firedAt).toBeGreaterThanOrEqual(deadline.validUntil - 1);
    expect(seen(a, 'lost')).toBe(false);
    relay.restore(); // the stale keepalives it held reach etcd now: they must not revive a's lease
    await b.lease.holder().then((h) => expect(h?.value).toBe('b'));
    expect(a.lease.isLeader).toBe(false);
    await annotate([
      `cut at 0: deadline at ${round(deadline.firedAt - cutAt)} ms (validUntil ${round(deadline.validUntil - cutAt)} ms)`,
      `winning createIfAbsent sent at ${round(win.sentAt - cutAt)} ms, answered at ${round(win.answeredAt - cutAt)} ms`,
      `fencing window (deadline -> other's win sent): ${round(win.sentAt - deadline.firedAt)} ms, margin 500 ms`,
      `acquired ${round(win.answeredAt - (a.store.lastKeepAliveSentAt + 2000))} ms after the holder's lease could first expire`,
    ].join('; '));
  });

  it.each<CutMode>(['hang', 'reset'])('a %s blip shorter than the margin emits neither lost nor deadline', async (mode) => {
    const relay = await relayTo(1);
    // ttl 3 s: renew every 500 ms, 600 ms margin; a 1 s blip is ttl/3.
    const a = candidate(`l/5-${mode}`, 'a', [relay.url], { ttlSeconds: 3, loopWaitMs: 500, safetyMarginMs: 600, requestTimeoutMs: 400, retryWaitMs: 100 });
    await a.lease.tryAcquire();
    await once(a.lease, 'renewed');
    relay.cut(mode);
    const cutAt = performance.now();
    await once(a.lease, 'renewFailed');
    await new Promise((resolve) => setTimeout(resolve, 1000 - (performance.now() - cutAt)));
    relay.restore();
    await once(a.lease, 'renewed');
    // Past the moment the lease would have run out had nothing been renewed.
    await new Promise((resolve) => setTimeout(resolve, cutAt + 3000 - performance.now()));
    expect(seen(a, 'lost') || seen(a, 'deadline')).toBe(false);
    expect(a.lease.isLeader).toBe(true);
    expect((await a.lease.holder())?.value).toBe('a');
  });
});
