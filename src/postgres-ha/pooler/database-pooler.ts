/**
 * PgBouncer for one database on this host, kept pointed at the primary:
 *
 * - the primary tracker (leader key + pg_is_in_recovery()) decides; on a new
 *   primary the configuration is rewritten, then RELOAD (PgBouncer closes
 *   server connections to the old address as they are released) and RECONNECT;
 * - no primary (the leader key left it: a failover) → PAUSE, so new
 *   transactions queue instead of failing against a member that is gone;
 *   RESUME once the new primary accepts writes;
 * - a switchover our primary is handing over (the request says `handingOver`,
 *   written by the leader once it chose the target) → PAUSE (transactions in flight
 *   finish, bounded by `pause_timeout`), then our record in etcd says so and
 *   the leader, which waits for that, stops (pause-barrier.ts); RESUME after
 *   the new primary, or when the request is gone and the leader did not change.
 *
 * Admin commands run one at a time, in the order the events came.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EtcdClient } from '../../coordination/index.js';
import type { PoolerConfig, PostgresConfig } from '../../config/index.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { splitListen } from '../../core/net.js';
import { sleep } from '../../core/time.js';
import { databaseKeys, type SwitchoverRequest } from '../keys.js';
import type { PrimaryAddress, PrimaryTracker } from '../primary-tracker.js';
import type { RunAs } from '../postgres-process.js';
import { adminCommand, sumPools, type AdminCommand, type AdminEndpoint, type PoolRow, type PoolTotals } from './admin-console.js';
import { makePoolerDir, removePoolerDir, renderAuthFile, renderIni, writePrivate, type PoolerFiles } from './pgbouncer-files.js';
import { PgBouncerProcess } from './pgbouncer-process.js';
import { poolersPrefix } from './pause-barrier.js';
import { PoolerRegistration } from './registration.js';
import { PrimaryWatch } from './primary-watch.js';

const ADMIN_TIMEOUT_MS = 3000;
const REQUEST_POLL_MS = 100;
/** A switchover pause that outlives its request's lease (30 s) by this much is lifted whatever happened. */
const SWITCHOVER_PAUSE_LIMIT_MS = 45_000;

export type PoolerPause =
  | { reason: 'switchover'; requestedAt: string; from: string; since: number }
  | { reason: 'no primary'; since: number }
  /** The watch connection to the primary closed (primary-watch.ts): held until the tracker names a primary again. */
  | { reason: 'primary lost'; member: string; since: number };

export interface PoolerSnapshot {
  database: string;
  listen: string;
  /** The member PgBouncer's configuration points at. */
  upstream: string | undefined;
  paused: PoolerPause['reason'] | undefined;
  repoints: number;
  pauses: number;
  /** The last pause, from PAUSE to RESUME. */
  lastPauseMs: number | undefined;
  pid: number | undefined;
}

export interface DatabasePoolerOptions {
  database: string;
  config: PoolerConfig;
  postgres: Pick<PostgresConfig, 'superuser' | 'superuser_password'> & { members: readonly { name: string; host: string; port: number }[] };
  tracker: Pick<PrimaryTracker, 'on' | 'off' | 'start' | 'stop' | 'current'>;
  /** The switchover requests and our record; without etcd there is no pause for switchovers. */
  etcd: EtcdClient | undefined;
  prefix: string;
  runAs: RunAs | undefined;
  log: Logger;
  /** Benchmarks only: false leaves switchovers unannounced (no record, no PAUSE before the handover), to measure what the pause buys. */
  pauseOnSwitchover?: boolean;
}

export class DatabasePooler {
  private files: PoolerFiles | undefined;
  private process: PgBouncerProcess | undefined;
  private registration: PoolerRegistration | undefined;
  private readonly admin: AdminEndpoint;
  private upstream: PrimaryAddress | undefined;
  private pause: PoolerPause | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly controller = new AbortController();
  private requestLoop: Promise<void> | undefined;
  private readonly keys;
  private counts = { repoints: 0, pauses: 0, lastPauseMs: undefined as number | undefined };
  private readonly watch: PrimaryWatch;
  private readonly onPrimary = (primary: PrimaryAddress | undefined): void => this.enqueue(() => this.follow(primary));

  constructor(private readonly o: DatabasePoolerOptions) {
    const { host, port } = splitListen(o.config.listen);
    this.admin = { host: host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host, port, password: randomBytes(18).toString('base64url') };
    this.keys = databaseKeys(o.database, o.prefix);
    this.watch = new PrimaryWatch({
      user: o.postgres.superuser, password: o.postgres.superuser_password ?? '',
      onLost: (primary) => this.enqueue(() => this.primaryLost(primary)),
    });
  }

  async start(): Promise<void> {
    const { o } = this;
    const superuserPassword = o.postgres.superuser_password;
    if (superuserPassword === undefined) throw new Error(`databases.${o.database}.postgres.pooler needs superuser_password: PgBouncer looks client passwords up as the superuser`);
    this.files = await makePoolerDir(o.database, o.runAs);
    await writePrivate(this.files.authFile, renderAuthFile({ superuser: o.postgres.superuser, superuserPassword, adminPassword: this.admin.password }), o.runAs);
    const first = o.postgres.members[0];
    const initial = o.tracker.current ?? (first ? { member: first.name, host: first.host, port: first.port } : undefined);
    if (!initial) throw new Error(`databases.${o.database}.postgres has no members for the pooler to point at`);
    await this.writeIni(initial);
    this.upstream = o.tracker.current;
    this.process = new PgBouncerProcess({
      bin: o.config.bin, ini: this.files.ini, runAs: o.runAs, admin: this.admin, log: o.log,
      onRestarted: () => this.enqueue(() => this.follow(o.tracker.current)),
    });
    await this.process.start();
    if (!o.tracker.current) await this.pauseFor({ reason: 'no primary', since: performance.now() });
    o.tracker.on('primary', this.onPrimary);
    await o.tracker.start();
    if (o.etcd && o.pauseOnSwitchover !== false) {
      const id = `${hostname()}:${this.admin.port}`;
      this.registration = new PoolerRegistration(o.etcd, `${poolersPrefix(this.keys.base)}${id}`, { listen: o.config.listen, pauseTimeoutMs: o.config.pause_timeout, at: new Date().toISOString() }, o.log);
      this.registration.start();
      this.requestLoop = this.watchRequests(o.etcd);
    }
  }

  async stop(deadline?: AbortSignal): Promise<void> {
    this.controller.abort();
    this.o.tracker.off('primary', this.onPrimary);
    this.watch.disarm();
    await this.requestLoop;
    await this.registration?.stop();
    await this.queue.catch(() => undefined);
    await this.o.tracker.stop(deadline).catch(() => undefined);
    await this.process?.stop(deadline);
    if (this.files) await removePoolerDir(this.files);
  }

  snapshot(): PoolerSnapshot {
    return {
      database: this.o.database, listen: this.o.config.listen, upstream: this.upstream?.member, paused: this.pause?.reason,
      repoints: this.counts.repoints, pauses: this.counts.pauses, lastPauseMs: this.counts.lastPauseMs, pid: this.process?.pid,
    };
  }

  /** SHOW POOLS, summed. */
  async pools(): Promise<PoolTotals> {
    return sumPools(await adminCommand<PoolRow>(this.admin, 'SHOW POOLS', ADMIN_TIMEOUT_MS));
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((err: unknown) => this.o.log.error({ err: errorMessage(err) }, 'pooler action failed'));
  }

  private async follow(primary: PrimaryAddress | undefined): Promise<void> {
    if (this.controller.signal.aborted) return;
    if (!primary) {
      if (!this.pause) await this.pauseFor({ reason: 'no primary', since: performance.now() });
      return;
    }
    if (primary.member !== this.upstream?.member || primary.host !== this.upstream.host || primary.port !== this.upstream.port) {
      await this.writeIni(primary);
      await this.command('RELOAD', ADMIN_TIMEOUT_MS);
      // Server connections to the old address close as they are released (RELOAD already marks them in 1.18).
      await this.command('RECONNECT', ADMIN_TIMEOUT_MS).catch((err: unknown) => this.o.log.debug({ err: errorMessage(err) }, 'RECONNECT refused'));
      this.o.log.info({ from: this.upstream?.member, to: primary.member }, 'PgBouncer pointed at the primary');
      if (this.upstream) this.counts.repoints += 1;
      this.upstream = primary;
    }
    if (this.pause) await this.resume('the primary accepts writes');
    if (this.watch.watching()?.member !== primary.member && !this.controller.signal.aborted) await this.watch.arm(primary);
  }

  /** The watch connection to our primary closed: pause now, and resume if the tracker still names it and it answers again. */
  private async primaryLost(primary: PrimaryAddress): Promise<void> {
    if (this.controller.signal.aborted || this.upstream?.member !== primary.member || this.pause) return;
    const pause: PoolerPause = { reason: 'primary lost', member: primary.member, since: performance.now() };
    this.o.log.warn({ member: primary.member }, 'lost the connection to the primary: pausing PgBouncer until a primary answers');
    await this.pauseFor(pause);
    void this.recheck(primary, pause);
  }

  private async recheck(primary: PrimaryAddress, pause: PoolerPause): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted && this.pause === pause) {
      await sleep(200, signal).catch(() => undefined);
      if (this.pause !== pause || this.o.tracker.current?.member !== primary.member) continue;
      if (await this.watch.arm(primary)) {
        this.enqueue(() => (this.pause === pause ? this.resume('the primary answers again') : Promise.resolve()));
        return;
      }
    }
  }

  private async pauseFor(pause: PoolerPause): Promise<boolean> {
    this.pause = pause;
    this.counts.pauses += 1;
    try {
      await this.command('PAUSE', this.o.config.pause_timeout);
      this.o.log.info({ reason: pause.reason, ms: Math.round(performance.now() - pause.since) }, 'PgBouncer paused: new transactions wait');
      return true;
    } catch (err) {
      this.o.log.warn({ reason: pause.reason, err: errorMessage(err) }, 'PgBouncer is pausing but transactions are still in flight');
      return false;
    }
  }

  private async resume(why: string): Promise<void> {
    const pause = this.pause;
    if (!pause) return;
    await this.command('RESUME', ADMIN_TIMEOUT_MS).catch((err: unknown) => {
      if (!/not paused/i.test(errorMessage(err))) throw err;
    });
    this.pause = undefined;
    this.counts.lastPauseMs = performance.now() - pause.since;
    this.o.log.info({ reason: pause.reason, pausedMs: Math.round(this.counts.lastPauseMs), why }, 'PgBouncer resumed');
    if (pause.reason === 'switchover') await this.registration?.setPaused(undefined);
  }

  /** Polls the switchover key: a request naming our primary pauses; a request gone with the leader unchanged resumes. */
  private async watchRequests(etcd: EtcdClient): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      const request = await this.readRequest(etcd, signal);
      const pause = this.pause;
      if (request?.handingOver === true && !pause && request.from === this.upstream?.member) {
        const next: PoolerPause = { reason: 'switchover', requestedAt: request.requestedAt, from: request.from, since: performance.now() };
        this.enqueue(async () => {
          if (this.pause) return;
          const drained = await this.pauseFor(next);
          await this.registration?.setPaused(next.requestedAt, drained);
        });
      } else if (pause?.reason === 'switchover' && (request?.requestedAt !== pause.requestedAt || performance.now() - pause.since > SWITCHOVER_PAUSE_LIMIT_MS)) {
        await this.maybeAbandoned(etcd, pause, signal);
      }
      await sleep(REQUEST_POLL_MS, signal).catch(() => undefined);
    }
  }

  /** The request is gone: if the leader is still the member we paused for, the switchover did not happen. */
  private async maybeAbandoned(etcd: EtcdClient, pause: Extract<PoolerPause, { reason: 'switchover' }>, signal: AbortSignal): Promise<void> {
    const leader = (await etcd.get(this.keys.leader, { timeoutMs: 1000, signal }).catch(() => undefined))?.kv?.value;
    const tooLong = performance.now() - pause.since > SWITCHOVER_PAUSE_LIMIT_MS;
    if ((leader === pause.from && this.o.tracker.current?.member === pause.from) || tooLong) {
      this.enqueue(() => (this.pause === pause ? this.resume(tooLong ? 'the switchover pause outlived its request' : 'the switchover did not happen') : Promise.resolve()));
    }
  }

  private async readRequest(etcd: EtcdClient, signal: AbortSignal): Promise<SwitchoverRequest | undefined> {
    const kv = (await etcd.get(this.keys.switchover, { timeoutMs: 1000, signal }).catch(() => undefined))?.kv;
    if (!kv) return undefined;
    try {
      const r = JSON.parse(kv.value) as Partial<SwitchoverRequest>;
      return typeof r.from === 'string' && typeof r.requestedAt === 'string' ? (r as SwitchoverRequest) : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeIni(upstream: PrimaryAddress): Promise<void> {
    if (!this.files) return;
    await writePrivate(this.files.ini, renderIni(this.o.config, upstream, this.files, this.o.postgres.superuser), this.o.runAs);
  }

  private async command(command: AdminCommand, timeoutMs: number): Promise<void> {
    await adminCommand(this.admin, command, timeoutMs);
  }
}
