/**
 * What a member writes to etcd about itself: its record under its own lease (renewed each loop, so a
 * dead member's record disappears with the lease) and, as a new primary, the failover history.
 */
import type { EtcdClient, LeaseId } from '../coordination/index.js';
import { isBulwarkError } from '../core/errors.js';
import { decodeHistory } from './ha-state.js';
import { HISTORY_LIMIT, type DatabaseKeys, type HistoryEntry, type MemberRecord } from './keys.js';

type Call = { signal?: AbortSignal; timeoutMs: number };

export class MemberPublisher {
  private lease: LeaseId | undefined;

  constructor(
    private readonly etcd: EtcdClient,
    private readonly keys: DatabaseKeys,
    private readonly member: string,
    private readonly ttlSeconds: () => number,
  ) {}

  async publish(record: MemberRecord, call: Call): Promise<void> {
    if (this.lease !== undefined) {
      try {
        if ((await this.etcd.keepAliveOnce(this.lease, call)) <= 0) this.lease = undefined;
      } catch (err) {
        if (isBulwarkError(err) && err.code === 'LEASE_LOST') this.lease = undefined;
        else throw err;
      }
    }
    this.lease ??= (await this.etcd.grantLease(this.ttlSeconds(), call)).id;
    await this.etcd.put(this.keys.member(this.member), JSON.stringify(record), { ...call, lease: this.lease });
  }

  /** The record goes with its lease. */
  async withdraw(call: Call): Promise<void> {
    if (this.lease) await this.etcd.revokeLease(this.lease, call).catch(() => undefined);
    this.lease = undefined;
  }

  /** Appends to the history (compare-and-swap, three tries), keeping the last HISTORY_LIMIT entries. */
  async appendHistory(entry: HistoryEntry, call: Call): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.etcd.get(this.keys.history, call);
      const list = current.kv ? (decodeHistory(current.kv.value) ?? []) : [];
      const value = JSON.stringify([...list, entry].slice(-HISTORY_LIMIT));
      const result = current.kv
        ? await this.etcd.compareAndSwap(this.keys.history, current.kv.modRevision, value, undefined, call)
        : await this.etcd.createIfAbsent(this.keys.history, value, undefined, call);
      if (result.succeeded) return;
    }
  }
}
