import { BulwarkError } from '../../core/errors.js';
import type { EtcdClient } from '../etcd-client.js';
import type { LeaseStore } from '../leader-key.js';

/**
 * A LeaseStore over a real client that records when requests were sent and can
 * play dead: once `kill()`ed every call fails at once and nothing reaches etcd
 * (no keepalive, no revoke), as if the holder's process had died.
 */
export class InstrumentedStore implements LeaseStore {
  dead = false;
  /** When the last keepalive that etcd answered with a TTL > 0 was sent (performance.now). */
  lastKeepAliveSentAt = Number.NaN;
  /** When the first createIfAbsent that succeeded was sent, and when its answer came. */
  firstWin: { sentAt: number; answeredAt: number } | undefined;

  constructor(private readonly client: EtcdClient) {}

  kill(): void {
    this.dead = true;
  }

  grantLease: LeaseStore['grantLease'] = (...args) => this.call(() => this.client.grantLease(...args));
  revokeLease: LeaseStore['revokeLease'] = (...args) => this.call(() => this.client.revokeLease(...args));
  get: LeaseStore['get'] = (...args) => this.call(() => this.client.get(...args));
  deleteIfRevision: LeaseStore['deleteIfRevision'] = (...args) => this.call(() => this.client.deleteIfRevision(...args));
  watch: LeaseStore['watch'] = (...args) => this.client.watch(...args);

  keepAliveOnce: LeaseStore['keepAliveOnce'] = (...args) => this.call(async () => {
    const sentAt = performance.now();
    const ttl = await this.client.keepAliveOnce(...args);
    if (ttl > 0) this.lastKeepAliveSentAt = sentAt;
    return ttl;
  });

  createIfAbsent: LeaseStore['createIfAbsent'] = (...args) => this.call(async () => {
    const sentAt = performance.now();
    const result = await this.client.createIfAbsent(...args);
    if (result.succeeded) this.firstWin ??= { sentAt, answeredAt: performance.now() };
    return result;
  });

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.dead) throw new BulwarkError('COORDINATION_UNAVAILABLE', 'this holder is dead');
    return fn();
  }
}
