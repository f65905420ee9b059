import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import type { CallOptions, KeyValue, WatchEvent } from './etcd-client.js';
import type { LeaseStore } from './leader-key.js';
import { LeaderLease, type LeaderLeaseOptions } from './leader-lease.js';

/** An in-memory etcd with scripted keepalives, on the fake clock. */
class FakeStore implements LeaseStore {
  kv: KeyValue | undefined;
  revision = 10;
  private nextLease = 100;
  readonly revoked: string[] = [];
  readonly keepAliveSentAt: number[] = [];
  keepAlive: (id: string, options?: CallOptions) => Promise<number> = async () => 3;

  async grantLease(ttlSeconds: number) {
    return { id: String(++this.nextLease), ttlSeconds };
  }
  async keepAliveOnce(id: string, options?: CallOptions) {
    this.keepAliveSentAt.push(Date.now());
    return this.keepAlive(id, options);
  }
  async revokeLease(id: string) {
    this.revoked.push(id);
    if (this.kv?.lease === id) this.kv = undefined;
  }
  async get() {
    return { kv: this.kv, revision: this.revision };
  }
  async createIfAbsent(key: string, value: string, lease: string | undefined) {
    if (this.kv) return { succeeded: false as const, revision: this.revision, current: this.kv };
    this.revision++;
    this.kv = { key, value, lease, createRevision: this.revision, modRevision: this.revision, version: 1 };
    return { succeeded: true as const, revision: this.revision };
  }
  async deleteIfRevision(_key: string, modRevision: number) {
    if (this.kv?.modRevision !== modRevision) return false;
    this.kv = undefined;
    return true;
  }
  async *watch(): AsyncGenerator<WatchEvent, void, undefined> {
    // Not used by these tests.
  }
}

const later = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));
const unavailable = (): Promise<never> => Promise.reject(new BulwarkError('COORDINATION_UNAVAILABLE', 'etcd unavailable'));

let store: FakeStore;
let events: string[];

function lease(options: Partial<LeaderLeaseOptions> = {}): LeaderLease {
  // ttl 3 s, renew every 1 s, 500 ms margin: validUntil = sent + 2500.
  const l = new LeaderLease({ store, key: 'leader', value: 'me', ttlSeconds: 3, loopWaitMs: 1000, safetyMarginMs: 500, requestTimeoutMs: 500, retryWaitMs: 100, now: () => Date.now(), ...options });
  for (const name of ['acquired', 'renewed', 'renewFailed', 'lost', 'deadline', 'released'] as const) l.on(name, () => events.push(name));
  return l;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  store = new FakeStore();
  events = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('LeaderLease (scripted etcd, fake clock)', () => {
  it('counts validity from when the grant and each keepalive were sent, not answered', async () => {
    const l = lease();
    store.keepAlive = () => later(300, 3);
    await vi.advanceTimersByTimeAsync(50);
    expect(await l.tryAcquire()).toBe(true);
    expect(l.validUntil).toBe(50 + 3000 - 500);
    await vi.advanceTimersByTimeAsync(1000 + 300);
    expect(store.keepAliveSentAt).toEqual([1050]);
    expect(l.validUntil).toBe(1050 + 2500);
    expect(events).toEqual(['acquired', 'renewed']);
  });

  it('fires deadline at validUntil exactly when renewals keep failing, then revokes; never lost', async () => {
    const l = lease();
    let firedAt = -1;
    l.on('deadline', (info) => (firedAt = info.firedAt));
    await l.tryAcquire();
    store.keepAlive = unavailable;
    await vi.advanceTimersByTimeAsync(2499);
    expect(l.isLeader).toBe(true);
    expect(events).not.toContain('deadline');
    await vi.advanceTimersByTimeAsync(1);
    expect(firedAt).toBe(2500);
    expect(l.isLeader).toBe(false);
    expect(events.filter((e) => e === 'renewFailed').length).toBeGreaterThan(5);
    expect(events.at(-1)).toBe('deadline');
    expect(events).not.toContain('lost');
    expect(store.revoked).toHaveLength(1);
  });

  it('an answer that arrives after validUntil does not count', async () => {
    const l = lease();
    await l.tryAcquire();
    store.keepAlive = unavailable;
    await vi.advanceTimersByTimeAsync(2400);
    store.keepAlive = () => later(150, 3); // sent before validUntil (2500), answered after it
    await vi.advanceTimersByTimeAsync(400);
    expect(events).toContain('deadline');
    expect(events).not.toContain('renewed');
    expect(l.isLeader).toBe(false);
  });

  it('rides out a blip: failures then a success before validUntil emit neither lost nor deadline', async () => {
    const l = lease();
    await l.tryAcquire();
    store.keepAlive = unavailable;
    await vi.advanceTimersByTimeAsync(1800);
    store.keepAlive = async () => 3;
    await vi.advanceTimersByTimeAsync(200);
    expect(events).toContain('renewed');
    expect(events).not.toContain('deadline');
    expect(events).not.toContain('lost');
    expect(l.validUntil).toBeGreaterThan(1800 + 2500 - 1);
  });

  it('emits lost when etcd says the lease is gone (TTL 0 or LEASE_LOST)', async () => {
    const l = lease();
    await l.tryAcquire();
    store.keepAlive = async () => 0;
    await vi.advanceTimersByTimeAsync(1000);
    expect(events).toEqual(['acquired', 'lost']);
    expect(l.isLeader).toBe(false);
    store.kv = undefined;
    const m = lease();
    await m.tryAcquire();
    store.keepAlive = () => Promise.reject(new BulwarkError('LEASE_LOST', 'gone'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(events.slice(2)).toEqual(['acquired', 'lost']);
  });

  it('emits lost when the key no longer carries our lease', async () => {
    const l = lease();
    let reason = '';
    l.on('lost', (info) => (reason = info.reason));
    await l.tryAcquire();
    store.kv = { ...(store.kv as KeyValue), value: 'intruder', lease: '999' };
    await vi.advanceTimersByTimeAsync(1000);
    expect(reason).toBe('key-changed');
    await vi.advanceTimersByTimeAsync(5000);
    expect(events).toEqual(['acquired', 'renewed', 'lost']);
  });

  it('does not acquire a held key, and revokes the lease it granted for the attempt', async () => {
    await lease({ value: 'other' }).tryAcquire();
    const l = lease();
    expect(await l.tryAcquire()).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.revoked).toEqual(['102']);
    expect(await l.holder()).toMatchObject({ value: 'other', leaseId: '101' });
  });

  it('resigns: deletes the key at our revision, revokes, emits released, and warns no more', async () => {
    const l = lease();
    await l.tryAcquire();
    await l.resign();
    expect(store.kv).toBeUndefined();
    expect(store.revoked).toEqual(['101']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events).toEqual(['acquired', 'released']);
    await l.stop();
  });

  it('refuses timing where one hung etcd member could let the lease run out', () => {
    let error: unknown;
    try {
      lease({ loopWaitMs: 2000, requestTimeoutMs: 500 });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'USAGE', hint: expect.stringMatching(/loop_wait \+ 2 \* request_timeout <= ttl - safety_margin/) });
    expect(() => new LeaderLease({ store, key: 'k', value: 'v', ttlSeconds: 30 })).not.toThrow();
  });
});
