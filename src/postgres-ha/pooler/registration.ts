/**
 * This pooler's record in etcd (pause-barrier.ts), bound to its own lease
 * (TTL 10 s, renewed every 3 s, granted again if it was lost), so that a
 * switchover waits only for poolers that are alive.
 */
import type { EtcdClient, LeaseId } from '../../coordination/index.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { sleep } from '../../core/time.js';
import type { PoolerRecord } from './pause-barrier.js';

const TTL_SECONDS = 10;
const RENEW_MS = 3000;

export class PoolerRegistration {
  private lease: LeaseId | undefined;
  private record: PoolerRecord;
  private readonly controller = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly etcd: Pick<EtcdClient, 'grantLease' | 'keepAliveOnce' | 'put' | 'revokeLease'>,
    private readonly key: string,
    initial: PoolerRecord,
    private readonly log: Logger,
  ) {
    this.record = initial;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Paused for a switchover request (its requestedAt), or not (undefined); written at once: the leader waits on it. */
  async setPaused(pausedFor: string | undefined, drained = true): Promise<void> {
    const { pausedFor: _pausedFor, drained: _drained, ...base } = this.record;
    this.record = { ...base, ...(pausedFor === undefined ? {} : { pausedFor, drained }), at: new Date().toISOString() };
    await this.write().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'could not write the pooler record to etcd'));
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
    if (this.lease) await this.etcd.revokeLease(this.lease, { timeoutMs: 1000 }).catch(() => undefined);
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      try {
        if (this.lease === undefined || (await this.etcd.keepAliveOnce(this.lease, { timeoutMs: 1000, signal })) === 0) {
          this.lease = (await this.etcd.grantLease(TTL_SECONDS, { timeoutMs: 1000, signal })).id;
          await this.write();
        }
      } catch (err) {
        if (!signal.aborted) this.log.warn({ err: errorMessage(err) }, 'could not renew the pooler record in etcd; a switchover will not wait for this pooler');
      }
      await sleep(RENEW_MS, signal).catch(() => undefined);
    }
  }

  private async write(): Promise<void> {
    if (this.lease === undefined) return;
    await this.etcd.put(this.key, JSON.stringify(this.record), { lease: this.lease, timeoutMs: 1000 });
  }
}
