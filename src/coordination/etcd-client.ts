import { isBulwarkError } from '../core/errors.js';
import { encode, headerRevision, int, toKeyValue, type KeyValue, type LeaseId, type RawHeader, type RawKeyValue } from './etcd-codec.js';
import { EtcdTransport, type CallOptions } from './etcd-transport.js';
import { watchKey, type WatchEvent } from './etcd-watch.js';

export type { CallOptions } from './etcd-transport.js';
export type { KeyValue, LeaseId } from './etcd-codec.js';
export type { WatchEvent } from './etcd-watch.js';

export interface EtcdClientOptions {
  /** Client URLs, e.g. http://10.0.0.1:2379. Credentials in a URL are ignored; use username/password. */
  endpoints: readonly string[];
  /** Default bound on each call, all endpoints tried included. Default 2000 ms. */
  timeoutMs?: number;
  /** With auth enabled on the cluster: authenticate once, again when the token goes stale. */
  username?: string;
  password?: string;
}

export interface Lease {
  id: LeaseId;
  ttlSeconds: number;
}

export interface GetResult {
  kv: KeyValue | undefined;
  /** The store's revision when it answered: watch from `revision + 1` to miss nothing. */
  revision: number;
}

/** A compare-and-swap: on success the revision it wrote; on failure what holds the key now. */
export type TxnResult =
  | { succeeded: true; revision: number }
  | { succeeded: false; revision: number; current: KeyValue | undefined };

interface RawRange { header?: RawHeader; kvs?: RawKeyValue[] }
interface RawTxn { header?: RawHeader; succeeded?: boolean; responses?: { response_range?: RawRange }[] }
interface Compare { key: string; target: 'CREATE' | 'MOD'; result: 'EQUAL'; create_revision?: string; mod_revision?: string }

/**
 * A small etcd v3 client over the JSON gateway (`POST /v3/...`). Every call
 * takes a signal and a timeout; see EtcdTransport for how endpoints are tried.
 */
export class EtcdClient {
  private readonly transport: EtcdTransport;

  constructor(options: EtcdClientOptions) {
    this.transport = new EtcdTransport({ ...options, timeoutMs: options.timeoutMs ?? 2000 });
  }

  /** The endpoint the next call tries first (the last one that worked). */
  currentEndpoint(): string {
    return this.transport.currentEndpoint();
  }

  async grantLease(ttlSeconds: number, options?: CallOptions): Promise<Lease> {
    // A retried grant at worst leaves one unused lease, which expires by itself.
    const body = (await this.transport.call('/v3/lease/grant', { TTL: String(ttlSeconds) }, true, options)) as { ID?: string; TTL?: string };
    return { id: body.ID ?? '0', ttlSeconds: int(body.TTL) };
  }

  /** Renews the lease once; the TTL it now has in seconds, 0 when etcd no longer knows it. */
  async keepAliveOnce(leaseId: LeaseId, options?: CallOptions): Promise<number> {
    const body = (await this.transport.call('/v3/lease/keepalive', { ID: leaseId }, true, options)) as { TTL?: string };
    return Math.max(0, int(body.TTL));
  }

  /** Seconds the lease has left as etcd sees it now; 0 (or below) when it is gone. For status displays, not for fencing. */
  async leaseTimeToLive(leaseId: LeaseId, options?: CallOptions): Promise<number> {
    const body = (await this.transport.call('/v3/lease/timetolive', { ID: leaseId }, true, options)) as { TTL?: string };
    return int(body.TTL);
  }

  /** Revokes the lease and deletes its keys; a lease already gone is not an error. */
  async revokeLease(leaseId: LeaseId, options?: CallOptions): Promise<void> {
    try {
      await this.transport.call('/v3/lease/revoke', { ID: leaseId }, true, options);
    } catch (err) {
      if (!isBulwarkError(err) || err.code !== 'LEASE_LOST') throw err;
    }
  }

  async get(key: string, options?: CallOptions): Promise<GetResult> {
    const body = (await this.transport.call('/v3/kv/range', { key: encode(key) }, true, options)) as RawRange;
    const raw = body.kvs?.[0];
    return { kv: raw ? toKeyValue(raw) : undefined, revision: headerRevision(body.header) };
  }

  /** Every key that starts with `prefix` (up to `limit`, 1000), in key order. */
  async getPrefix(prefix: string, options?: CallOptions & { limit?: number }): Promise<KeyValue[]> {
    const body = (await this.transport.call('/v3/kv/range', { key: encode(prefix), range_end: encode(prefixEnd(prefix)), limit: String(options?.limit ?? 1000) }, true, options)) as RawRange;
    return (body.kvs ?? []).map(toKeyValue);
  }

  /** Writes unconditionally; the revision of the write. */
  async put(key: string, value: string, options: CallOptions & { lease?: LeaseId } = {}): Promise<number> {
    const body = (await this.transport.call('/v3/kv/put', putRequest(key, value, options.lease), false, options)) as { header?: RawHeader };
    return headerRevision(body.header);
  }

  /** Deletes unconditionally; whether the key existed. */
  async delete(key: string, options?: CallOptions): Promise<boolean> {
    const body = (await this.transport.call('/v3/kv/deleterange', { key: encode(key) }, false, options)) as { deleted?: string };
    return int(body.deleted) > 0;
  }

  /** Writes only if the key does not exist. */
  async createIfAbsent(key: string, value: string, lease: LeaseId | undefined, options?: CallOptions): Promise<TxnResult> {
    return this.swap({ key: encode(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }, key, value, lease, options);
  }

  /** Writes only if the key was last written at `expectedModRevision`. */
  async compareAndSwap(key: string, expectedModRevision: number, value: string, lease: LeaseId | undefined, options?: CallOptions): Promise<TxnResult> {
    return this.swap(modEquals(key, expectedModRevision), key, value, lease, options);
  }

  /** Deletes only if the key was last written at `modRevision`; whether it did. */
  async deleteIfRevision(key: string, modRevision: number, options?: CallOptions): Promise<boolean> {
    const txn = { compare: [modEquals(key, modRevision)], success: [{ request_delete_range: { key: encode(key) } }] };
    const body = (await this.transport.call('/v3/kv/txn', txn, false, options)) as RawTxn;
    return body.succeeded === true;
  }

  /** See watchKey: `timeoutMs` bounds the opening only; ends when `signal` aborts. */
  watch(key: string, fromRevision: number, signal: AbortSignal, options: { timeoutMs?: number } = {}): AsyncGenerator<WatchEvent, void, undefined> {
    return watchKey(this.transport, key, fromRevision, signal, options.timeoutMs);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async swap(compare: Compare, key: string, value: string, lease: LeaseId | undefined, options?: CallOptions): Promise<TxnResult> {
    const txn = {
      compare: [compare],
      success: [{ request_put: putRequest(key, value, lease) }],
      failure: [{ request_range: { key: encode(key) } }],
    };
    const body = (await this.transport.call('/v3/kv/txn', txn, false, options)) as RawTxn;
    const revision = headerRevision(body.header);
    if (body.succeeded === true) return { succeeded: true, revision };
    const raw = body.responses?.[0]?.response_range?.kvs?.[0];
    return { succeeded: false, revision, current: raw ? toKeyValue(raw) : undefined };
  }
}

function putRequest(key: string, value: string, lease: LeaseId | undefined): Record<string, string> {
  return { key: encode(key), value: encode(value), ...(lease === undefined ? {} : { lease }) };
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

function modEquals(key: string, modRevision: number): Compare {
  return { key: encode(key), target: 'MOD', result: 'EQUAL', mod_revision: String(modRevision) };
}
