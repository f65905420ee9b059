import { CallDeadline } from './deadline.js';
import type { CallOptions, EtcdClient, LeaseId } from './etcd-client.js';

/** What a LeaderLease needs from etcd: a seam for tests with a scripted store. */
export type LeaseStore = Pick<EtcdClient, 'grantLease' | 'keepAliveOnce' | 'revokeLease' | 'get' | 'createIfAbsent' | 'deleteIfRevision' | 'watch'>;

export interface Holder {
  /** The holder's own description of itself (a member name). */
  value: string;
  leaseId: LeaseId | undefined;
  createRevision: number;
  modRevision: number;
}

/** Who holds the leader key now, as followers see it; undefined when no one does. */
export async function readHolder(store: Pick<LeaseStore, 'get'>, key: string, options?: CallOptions): Promise<Holder | undefined> {
  const { kv } = await store.get(key, options);
  return kv && { value: kv.value, leaseId: kv.lease, createRevision: kv.createRevision, modRevision: kv.modRevision };
}

/**
 * Resolves when the key is absent or gets deleted, or after `maxWaitMs` at most:
 * a watch cannot tell a cut connection from a quiet key, so the caller must
 * look again from time to time. Throws only when `signal` aborts or etcd fails.
 */
export async function waitForVacancy(store: Pick<LeaseStore, 'get' | 'watch'>, key: string, maxWaitMs: number, signal: AbortSignal): Promise<void> {
  const deadline = new CallDeadline(signal, maxWaitMs);
  try {
    const { kv, revision } = await store.get(key, { signal: deadline.signal });
    if (!kv) return;
    for await (const event of store.watch(key, revision + 1, deadline.signal)) {
      if (event.type === 'delete') return;
    }
  } catch (err) {
    if (!deadline.timedOut) throw err;
  } finally {
    deadline.dispose();
  }
  signal.throwIfAborted();
}

