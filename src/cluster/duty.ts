import type { Subsystem } from '../core/lifecycle.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { sleep } from '../core/time.js';
import { LeaderLease, type LeaseStore } from '../coordination/index.js';

export interface DutyOptions<TConfig> {
  /** The subsystem that must run on one daemon only. */
  inner: Subsystem<TConfig>;
  etcd: LeaseStore;
  /** The duty's lease key in etcd. */
  key: string;
  /** This daemon's member name, written as the key's value. */
  member: string;
  ttlSeconds: number;
  log: Logger;
}

export type DutyState =
  | { kind: 'standby' }
  | { kind: 'starting'; since: number }
  | { kind: 'running'; since: number }
  | { kind: 'fencing'; reason: string }
  | { kind: 'stopped' };

/**
 * A singleton duty behind an etcd lease (design.md, "Singleton duties"): the
 * wrapped subsystem starts only while this daemon holds the duty's key and
 * stops at once when the lease is lost, or when its validity (the last
 * successful keep-alive's send time + TTL − margin) passes without a renewal,
 * which is before etcd can expire it and hand the duty to another daemon.
 * Standing by is ready: /readyz does not wait for a lease.
 */
export class Duty<TConfig = unknown> implements Subsystem<TConfig> {
  readonly name: string;
  private readonly lease: LeaderLease;
  private readonly stopping = new AbortController();
  private serving: Promise<void> | undefined;
  private current: DutyState = { kind: 'standby' };
  private innerRunning = false;
  private pendingConfig: TConfig | undefined;
  private readonly log: Logger;

  constructor(private readonly o: DutyOptions<TConfig>) {
    this.name = o.inner.name;
    this.log = o.log.child({ duty: this.name });
    this.lease = new LeaderLease({ store: o.etcd, key: o.key, value: o.member, ttlSeconds: o.ttlSeconds, logger: this.log });
  }

  get state(): DutyState {
    return this.current;
  }

  /** Whether this daemon may act for the duty right now (its lease is still valid by our own clock). */
  holds(): boolean {
    const until = this.lease.validUntil;
    return until !== undefined && performance.now() < until && this.innerRunning;
  }

  async start(): Promise<void> {
    this.serving = this.serve(this.stopping.signal).catch((err: unknown) => {
      if (!this.stopping.signal.aborted) this.log.error({ err: errorMessage(err) }, 'duty loop failed');
    });
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.stopping.abort(new Error('the daemon is stopping'));
    await this.serving;
    // Stop the work before giving the key up, so that the next holder never overlaps with it.
    if (this.innerRunning) await this.stopInner(deadline, 'the daemon is stopping');
    await this.lease.stop();
    this.current = { kind: 'stopped' };
  }

  beforeStop(): void {
    if (this.innerRunning) this.o.inner.beforeStop?.();
  }

  async reload(config: TConfig): Promise<void> {
    if (this.innerRunning) await this.o.inner.reload?.(config);
    else this.pendingConfig = config;
  }

  ready(): boolean {
    return true;
  }

  private async serve(signal: AbortSignal): Promise<void> {
    for (;;) {
      await this.lease.campaign(signal);
      const ended = this.termEnded(signal);
      try {
        await this.startInner();
      } catch (err) {
        this.log.error({ err: errorMessage(err) }, 'the duty failed to start; giving its lease up');
        await this.stopInner(AbortSignal.abort(), 'it failed to start');
        await this.lease.resign().catch(() => undefined);
        ended.dispose();
        await sleep(this.o.ttlSeconds * 1000, signal);
        continue;
      }
      const reason = await ended.promise;
      if (signal.aborted) return;
      this.current = { kind: 'fencing', reason };
      // Fencing: stop at once (an aborted deadline), not after a drain.
      await this.stopInner(AbortSignal.abort(), reason);
      this.current = { kind: 'standby' };
    }
  }

  /** Resolves with why this term ended: the lease lost, its validity passed, or the daemon stopping. */
  private termEnded(signal: AbortSignal): { promise: Promise<string>; dispose: () => void } {
    let dispose = () => undefined as void;
    const promise = new Promise<string>((resolve) => {
      const lost = (info: { reason: string; detail: string }) => resolve(`lease lost (${info.reason}: ${info.detail})`);
      const expired = () => resolve('lease validity passed without a renewal');
      const abort = () => resolve('the daemon is stopping');
      this.lease.once('lost', lost);
      this.lease.once('deadline', expired);
      signal.addEventListener('abort', abort, { once: true });
      dispose = () => {
        this.lease.off('lost', lost);
        this.lease.off('deadline', expired);
        signal.removeEventListener('abort', abort);
      };
    });
    return { promise: promise.finally(() => dispose()), dispose };
  }

  private async startInner(): Promise<void> {
    this.current = { kind: 'starting', since: Date.now() };
    this.innerRunning = true;
    await this.o.inner.start();
    const pending = this.pendingConfig;
    this.pendingConfig = undefined;
    if (pending !== undefined) await this.o.inner.reload?.(pending);
    this.current = { kind: 'running', since: Date.now() };
    this.log.info({ member: this.o.member, event: 'duty.started' }, 'duty started here: this daemon holds its lease');
  }

  private async stopInner(deadline: AbortSignal, reason: string): Promise<void> {
    if (!this.innerRunning) return;
    this.innerRunning = false;
    try {
      await this.o.inner.stop(deadline);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'the duty failed to stop cleanly');
    }
    this.log.warn({ member: this.o.member, reason, event: 'duty.stopped' }, 'duty stopped here');
  }
}
