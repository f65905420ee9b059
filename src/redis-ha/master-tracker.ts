/**
 * Which member is the Redis master, as the Sentinels say, for whoever routes
 * clients to it (the gateway's Redis front door). Sentinel decides; this only
 * listens:
 *
 * - every Sentinel is subscribed to `+switch-master`; the event is a committed
 *   failover (a new configuration epoch), so the route moves at once;
 * - every `pollMs` every Sentinel is asked `SENTINEL MASTER` (the address
 *   `get-master-addr-by-name` returns, with the configuration epoch and the
 *   flags); the answer with the newest epoch wins, as between Sentinels
 *   themselves, so a Sentinel that has not yet heard of a failover (they learn
 *   through hello messages within seconds) does not move the route back;
 * - a master flagged `o_down` (a quorum of Sentinels cannot reach it) routes to
 *   no one until the failover names the next: new connections wait in the
 *   front door's queue instead of failing against a dead address;
 * - no Sentinel answering keeps the last decision: Sentinels being away says
 *   nothing about the master.
 *
 * An address that is not a configured member is never routed to.
 */
import { EventEmitter } from 'node:events';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { sleep } from '../core/time.js';
import { sentinelView, subscribeSwitchMaster, type Address, type SentinelView, type Subscription } from './sentinel-query.js';

export interface TrackedMember { name: string; host: string; port: number }

export interface MasterAddress { member: string; host: string; port: number }

export interface MasterTrackerOptions {
  database: string;
  masterName: string;
  members: TrackedMember[];
  sentinels: Address[];
  sentinelPassword?: string;
  pollMs?: number;
  timeoutMs?: number;
  log?: Logger;
}

export type SentinelAnswer = { sentinel: string; ok: true; view: SentinelView } | { sentinel: string; ok: false; error: string };

export interface MasterTrackerEvents {
  primary: [MasterAddress | undefined];
}

const RESUBSCRIBE_MS = 1_000;

export class MasterTracker extends EventEmitter<MasterTrackerEvents> {
  private decided = false;
  private master: MasterAddress | undefined;
  private lastAnswers: SentinelAnswer[] = [];
  private readonly stopping = new AbortController();
  private readonly subscriptions = new Set<Subscription>();
  private loops: Array<Promise<void>> = [];
  private wake: (() => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly o: MasterTrackerOptions) {
    super();
    this.log = (o.log ?? silentLogger()).child({ component: 'redis-master-tracker', database: o.database });
  }

  get current(): MasterAddress | undefined {
    return this.master;
  }

  /** What each Sentinel answered in the last round. */
  answers(): SentinelAnswer[] {
    return this.lastAnswers;
  }

  async start(): Promise<void> {
    await this.poll();
    this.loops = [this.pollLoop(), ...this.o.sentinels.map((s) => this.subscribeLoop(s))];
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    for (const subscription of this.subscriptions) subscription.close();
    await Promise.all(this.loops);
  }

  /** One round now: ask every Sentinel and decide. */
  async poll(): Promise<void> {
    const timeoutMs = this.o.timeoutMs ?? 1_000;
    this.lastAnswers = await Promise.all(this.o.sentinels.map(async (s): Promise<SentinelAnswer> => {
      const sentinel = `${s.host}:${s.port}`;
      try {
        return { sentinel, ok: true, view: await sentinelView({ ...s, password: this.o.sentinelPassword, timeoutMs }, this.o.masterName) };
      } catch (err) {
        return { sentinel, ok: false, error: errorMessage(err) };
      }
    }));
    const views = this.lastAnswers.flatMap((a) => (a.ok ? [a.view] : []));
    if (views.length === 0) {
      if (!this.decided) this.decide(undefined, 'no Sentinel answered');
      return;
    }
    const newest = chooseNewest(views);
    this.decide(newest.flags.includes('o_down') ? undefined : newest.master, newest.flags.includes('o_down') ? 'the master is objectively down' : 'Sentinels');
  }

  private decide(address: Address | undefined, why: string): void {
    const member = address && this.o.members.find((m) => m.port === address.port && sameHost(m.host, address.host));
    if (address && !member) this.log.error({ address: `${address.host}:${address.port}` }, 'the Sentinels name a master that is not a configured member; routing to no one');
    const next = member ? { member: member.name, host: member.host, port: member.port } : undefined;
    const changed = next?.member !== this.master?.member;
    if (this.decided && !changed) return;
    this.decided = true;
    this.master = next;
    this.log.info({ master: next?.member ?? null, why }, next ? `redis master is ${next.member}` : 'no redis master to route to');
    this.emit('primary', next);
  }

  private async pollLoop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const round = new AbortController();
      this.wake = () => round.abort();
      await sleep(this.o.pollMs ?? 1_000, AbortSignal.any([signal, round.signal]));
      if (signal.aborted) return;
      await this.poll().catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'Sentinel round failed'));
    }
  }

  private async subscribeLoop(sentinel: Address): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const closed = new Promise<void>((resolve) => {
        subscribeSwitchMaster({ ...sentinel, password: this.o.sentinelPassword, timeoutMs: this.o.timeoutMs ?? 1_000 }, this.o.masterName, (master) => {
          this.log.info({ sentinel: `${sentinel.host}:${sentinel.port}`, master: `${master.host}:${master.port}` }, '+switch-master');
          this.decide(master, '+switch-master');
          this.wake?.();
        }, () => resolve()).then((subscription) => {
          this.subscriptions.add(subscription);
          if (signal.aborted) subscription.close();
          void closed.then(() => this.subscriptions.delete(subscription));
        }, () => resolve());
      });
      await closed;
      await sleep(RESUBSCRIBE_MS, signal).catch(() => undefined);
    }
  }
}

/** The view with the newest configuration epoch; among equals, the address most of them name. */
export function chooseNewest(views: SentinelView[]): SentinelView {
  const epoch = Math.max(...views.map((v) => v.epoch));
  const newest = views.filter((v) => v.epoch === epoch);
  const count = (v: SentinelView): number => newest.filter((w) => w.master.host === v.master.host && w.master.port === v.master.port).length;
  return [...newest].sort((a, b) => count(b) - count(a))[0]!;
}

function sameHost(a: string, b: string): boolean {
  const local = (h: string): string => (h === 'localhost' || h === '::1' ? '127.0.0.1' : h);
  return local(a) === local(b);
}
