/**
 * The leader's synchronous set: which standbys PostgreSQL takes commit
 * acknowledgements from (`synchronous_standby_names`) and which ones etcd's
 * `sync` key records, changed in Patroni's order (decide.ts `syncSteps`) so the
 * record is always a superset of what PostgreSQL may take acknowledgements from.
 * Re-asserted every loop against changes made behind the leader's back; the time
 * and write transactions with no synchronous standby are accounted.
 */
import type { EtcdClient } from '../coordination/index.js';
import type { Logger } from '../core/logger.js';
import { syncSteps } from './decide.js';
import type { DatabaseKeys, SyncRecord } from './keys.js';
import { parseSynchronousStandbyNames, type PostgresMember } from './postgres-process.js';

type Call = { signal: AbortSignal; timeoutMs: number };

export interface SynchronousSetEvents {
  syncChanged(members: string[]): void;
  drift(info: { setting: string; live: string; pending: string | undefined; intended: string }): void;
  withoutStandby(info: { ms: number; transactions: number }): void;
}

export interface SynchronousSetOptions {
  pg: PostgresMember;
  etcd: Pick<EtcdClient, 'createIfAbsent' | 'compareAndSwap'>;
  keys: DatabaseKeys;
  log: Logger;
  events: SynchronousSetEvents;
  /** Whether this member still holds the leader lease: checked between steps. */
  isLeader: () => boolean;
}

export class SynchronousSet {
  /** What this leader last applied in PostgreSQL; undefined: not known yet (read it from PostgreSQL). */
  private applied: string[] | undefined;
  /** When the leader last saw no standby streaming (performance.now()); undefined while one streams. */
  private noStandbySince: number | undefined;
  /** Since when (and from which transaction id) the primary has run with an empty synchronous_standby_names. */
  private alone: { at: number; xid: bigint } | undefined;
  /** modRevision of the sync key as last read or written: our compare-and-swap guard. */
  private revision = 0;

  constructor(private readonly o: SynchronousSetOptions) {}

  /** The sync key as read this iteration: the revision the next write compares against. */
  seen(revision: number): void {
    this.revision = revision;
  }

  /** A new term, or new settings: what PostgreSQL runs is read again before anything is changed. */
  forget(): void {
    this.applied = undefined;
  }

  /** Synchronous mode is off: nothing to account. */
  off(): void {
    this.alone = undefined;
  }

  /**
   * Before promotion: record `members` with us as the last primary, then promote with them as the
   * synchronous standbys (the caller does), so that no commit is acknowledged by the new primary alone.
   */
  async recordBeforePromotion(members: string[], call: Call): Promise<boolean> {
    return this.record(members, call);
  }

  promoted(members: string[], at: number): void {
    this.applied = members;
    this.noStandbySince = at;
    this.alone = undefined;
  }

  /** One loop of the leader's chores for the set. */
  async keep(recordedSet: readonly string[] | undefined, peers: readonly string[], strict: boolean, degradeAfterMs: number, call: Call): Promise<void> {
    const streaming = (await this.o.pg.streamingStandbys(call)).filter((n) => peers.includes(n));
    const applied = await this.reassert(call);
    const recorded = (recordedSet ?? []).filter((n) => n !== this.o.pg.name);
    const wanted = this.wanted(streaming, applied, [...peers], strict, degradeAfterMs);
    let changed = false;
    for (const step of syncSteps(recorded, applied, wanted)) {
      if (!this.o.isLeader()) return;
      if (step.kind === 'apply') {
        await this.o.pg.setSynchronousStandbys(step.members, call);
        this.applied = step.members;
        changed = true;
      } else if (!(await this.record(step.members, call))) {
        return;
      }
    }
    if (changed) this.countAlone(await this.o.pg.synchronousState(call));
  }

  /**
   * The standbys commits should wait for. With one streaming: those. With none: strict keeps waiting
   * for the ones it had (every peer if none), so writes block; non-strict does the same for
   * `degradeAfterMs` (a standby re-pointing at a new primary, a blip), then goes asynchronous.
   */
  private wanted(streaming: string[], applied: string[], peers: string[], strict: boolean, degradeAfterMs: number): string[] {
    if (streaming.length > 0) {
      this.noStandbySince = undefined;
      return streaming;
    }
    const now = performance.now();
    this.noStandbySince ??= now;
    if (strict) return applied.length > 0 ? applied : peers;
    if (applied.length === 0 || now - this.noStandbySince < degradeAfterMs) return applied;
    this.o.log.warn({ waitedMs: Math.round(now - this.noStandbySince), standbys: applied },
      'no synchronous standby streaming for degrade_after: going asynchronous; commits are acknowledged by the primary alone until one streams again');
    return [];
  }

  /**
   * synchronous_standby_names as PostgreSQL runs it (and as its configuration files would set it at the
   * next reload) against what this leader set: a difference was made behind its back (by hand, or by
   * a process that should not touch this data directory) and is put back at once. Returns the names in force.
   */
  private async reassert(call: Call): Promise<string[]> {
    const state = await this.o.pg.synchronousState(call);
    this.countAlone(state);
    const intended = this.applied;
    if (intended === undefined) return (this.applied = parseSynchronousStandbyNames(state.live));
    const value = this.o.pg.synchronousStandbyNames(intended);
    // No file setting it: the next reload brings back the default, ''.
    if (state.live === value && (state.pending ?? '') === value) return intended;
    this.o.log.warn({ live: state.live, pending: state.pending, intended: value },
      'synchronous_standby_names was changed behind the leader (by hand or by another process); restoring it');
    this.o.events.drift({ setting: 'synchronous_standby_names', live: state.live, pending: state.pending, intended: value });
    await this.o.pg.setSynchronousStandbys(intended, call);
    this.countAlone(await this.o.pg.synchronousState(call));
    return intended;
  }

  /** Accounts the time and write transactions since the last reading while the primary ran with no synchronous standby. */
  private countAlone(state: { live: string; nextXid: bigint }): void {
    const now = performance.now();
    if (this.alone) this.o.events.withoutStandby({ ms: now - this.alone.at, transactions: Number(state.nextXid - this.alone.xid) });
    this.alone = state.live === '' ? { at: now, xid: state.nextXid } : undefined;
  }

  /** Compare-and-swap on the sync key as read this iteration: a concurrent writer makes us skip a turn. */
  private async record(members: string[], call: Call): Promise<boolean> {
    const value = JSON.stringify({ leader: this.o.pg.name, members } satisfies SyncRecord);
    const key = this.o.keys.sync;
    const result = this.revision === 0
      ? await this.o.etcd.createIfAbsent(key, value, undefined, call)
      : await this.o.etcd.compareAndSwap(key, this.revision, value, undefined, call);
    if (!result.succeeded) return false;
    this.revision = result.revision;
    this.o.log.info({ members }, 'recorded the synchronous set');
    this.o.events.syncChanged(members);
    return true;
  }
}
