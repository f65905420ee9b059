/**
 * What `bulwark demo db` shows live, one event at a time: the daemon's
 * PostgreSQL events (promoted, fenced, rejoined, failover/switchover) joined
 * with what the writer saw (the write gap, the writes acknowledged, those
 * missing on the new primary), the primary's standbys as pg_stat_replication
 * shows them, and a count of the writes every few seconds.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { DatabaseHaEvents } from '../postgres-ha/index.js';
import type { DemoWriter, Endpoint, WriterSwitch } from './db-writer.js';

export interface DemoDbMember {
  name: string;
  port: number;
  dataDir: string;
  /** Straight to this member (not through the front door), database `postgres`. */
  endpoint: Endpoint;
}

export interface Standby {
  name: string;
  /** pg_stat_replication.state: streaming, catchup, ... */
  state: string;
  /** pg_stat_replication.sync_state: quorum (ANY n), sync, async, potential. */
  sync: string;
}

/** One line of the live view; `--json` prints each as a JSON line. `at` is an ISO time. */
export type DemoDbEvent =
  | { event: 'primary'; member: string; pid: number | undefined; at: string }
  | { event: 'fenced'; member: string; reason: string; at: string }
  | {
    event: 'failover'; kind: 'failover' | 'switchover' | 'manual-failover'; from: string | undefined; to: string;
    /** Last write acknowledged by the old primary → first by the new one, as the writer saw it; null when the writer saw no switch within a minute. */
    writeGapMs: number | null;
    /** The new primary's own measure (old leader gone, or hand-over start → accepting writes). */
    measuredMs: number;
    /** Acknowledged writes looked for on the new primary, and how many of them it does not have (expected 0). */
    acknowledged: number;
    missing: number | null;
    missingSample: number[];
    /** Writes sent without an answer so far (cut by the failover): they may or may not have committed. */
    unanswered: number;
    error?: string;
    at: string;
  }
  | { event: 'rejoined'; member: string; leader: string | undefined; method: 'pg_rewind' | 'basebackup' | 'start'; durationMs: number; detail: string; at: string }
  | {
    event: 'standbys'; primary: string; standbys: Standby[];
    /** The primary's synchronous_standby_names: empty means it acknowledges commits alone. */
    synchronousStandbyNames: string;
    at: string;
  }
  | { event: 'writes'; acknowledged: number; perSecond: number; primary: string | undefined; unanswered: number; at: string };

/** The part of the daemon's event bus the demo listens to. */
export interface HaEventSource {
  on<K extends keyof DatabaseHaEvents & string>(event: K, listener: (payload: DatabaseHaEvents[K]) => void): () => void;
}

export interface DemoDbWatchOptions {
  bus: HaEventSource;
  database: string;
  writer: DemoWriter;
  members: readonly DemoDbMember[];
  emit: (event: DemoDbEvent) => void;
  onError?: (what: string, err: unknown) => void;
  standbyPollMs?: number;
  writesEveryMs?: number;
}

const SWITCH_WAIT_MS = 60_000;
/** A writer switch this long before the failover event still belongs to it (the writer may see the new primary first). */
const SWITCH_LOOKBACK_MS = 30_000;

export class DemoDbWatch {
  /** The member that last became primary, as the daemon said. */
  primary: string | undefined;
  private live = false;
  private readonly offs: Array<() => void> = [];
  private readonly switches: Array<WriterSwitch & { used: boolean }> = [];
  private readonly abort = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  private lastStandbys = '';

  constructor(private readonly o: DemoDbWatchOptions) {
    const mine = <K extends keyof DatabaseHaEvents & string>(event: K, fn: (p: DatabaseHaEvents[K]) => void): void => {
      this.offs.push(o.bus.on(event, (p) => {
        if ((p as { database?: string }).database === o.database) fn(p);
      }));
    };
    mine('database.promoted', ({ member }) => {
      this.primary = member;
      if (this.live) this.track(this.announcePrimary(member));
    });
    mine('database.fenced', ({ member, reason }) => {
      if (this.live) o.emit({ event: 'fenced', member, reason, at: now() });
    });
    mine('database.rejoined', ({ member, method, durationMs, detail }) => {
      if (this.live) o.emit({ event: 'rejoined', member, leader: this.primary, method, durationMs, detail, at: now() });
    });
    mine('database.failover', ({ entry }) => {
      if (this.live) this.track(this.reportFailover(entry.kind, entry.from, entry.to, entry.durationMs));
    });
    const onSwitch = (s: WriterSwitch): void => {
      this.switches.push({ ...s, used: false });
      if (this.switches.length > 20) this.switches.shift();
    };
    o.writer.on('switch', onSwitch);
    this.offs.push(() => o.writer.off('switch', onSwitch));
  }

  /** From now on every event is shown; `primary` is who the demo found serving the front door. */
  goLive(primary: string): void {
    this.primary ??= primary;
    this.live = true;
    this.track(this.announcePrimary(this.primary));
    this.track(this.pollStandbys());
    this.track(this.countWrites());
  }

  async stop(): Promise<void> {
    this.live = false;
    this.abort.abort();
    for (const off of this.offs.splice(0)) off();
    await Promise.allSettled([...this.pending]);
  }

  member(name: string): DemoDbMember | undefined {
    return this.o.members.find((m) => m.name === name);
  }

  memberByPort(port: number | undefined): string | undefined {
    return this.o.members.find((m) => m.port === port)?.name;
  }

  private track(work: Promise<void>): void {
    const p = work.catch((err: unknown) => this.o.onError?.('live view', err)).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async announcePrimary(member: string): Promise<void> {
    const m = this.member(member);
    this.o.emit({ event: 'primary', member, pid: m ? await postmasterPid(m.dataDir) : undefined, at: now() });
  }

  private async reportFailover(kind: 'failover' | 'switchover' | 'manual-failover', from: string | undefined, to: string, measuredMs: number): Promise<void> {
    const target = this.member(to);
    if (!target) return;
    const seen = await this.switchTo(target.port, performance.now());
    if (this.abort.signal.aborted) return;
    let missing: { checked: number; missing: number; sample: number[] } | undefined;
    let error: string | undefined;
    try {
      missing = await this.o.writer.missingOn(target.endpoint);
    } catch (err) {
      error = `could not count the missing writes on ${to}: ${(err as Error).message}`;
    }
    this.o.emit({
      event: 'failover', kind, from, to, writeGapMs: seen ? Math.round(seen.gapMs) : null, measuredMs,
      acknowledged: missing?.checked ?? this.o.writer.acknowledged, missing: missing?.missing ?? null, missingSample: missing?.sample ?? [],
      unanswered: this.o.writer.unanswered.length, ...(error ? { error } : {}), at: now(),
    });
  }

  /** The writer's switch to `port`: one it already made (it may see the new primary before the event arrives), or the next one. */
  private switchTo(port: number, since: number): Promise<WriterSwitch | undefined> {
    const take = (): WriterSwitch | undefined => {
      const found = this.switches.find((s) => !s.used && s.toPort === port && s.firstNewAt >= since - SWITCH_LOOKBACK_MS);
      if (found) found.used = true;
      return found;
    };
    const already = take();
    if (already) return Promise.resolve(already);
    return new Promise((resolve) => {
      const done = (value: WriterSwitch | undefined): void => {
        clearTimeout(timer);
        this.o.writer.off('switch', onSwitch);
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      // Listeners run in order: the constructor's recorder has already pushed this switch.
      const onSwitch = (s: WriterSwitch): void => {
        if (s.toPort === port) done(take());
      };
      const onAbort = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), SWITCH_WAIT_MS);
      this.o.writer.on('switch', onSwitch);
      this.abort.signal.addEventListener('abort', onAbort);
    });
  }

  /** pg_stat_replication of the primary, shown when it changes: who streams, and who may acknowledge commits. */
  private async pollStandbys(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const primary = this.primary === undefined ? undefined : this.member(this.primary);
      if (primary) {
        const seen = await readReplication(primary.endpoint).catch(() => undefined);
        if (seen && !seen.inRecovery && !signal.aborted) {
          const key = `${primary.name}:${JSON.stringify(seen.standbys)}:${seen.synchronousStandbyNames}`;
          if (key !== this.lastStandbys) {
            this.lastStandbys = key;
            this.o.emit({ event: 'standbys', primary: primary.name, standbys: seen.standbys, synchronousStandbyNames: seen.synchronousStandbyNames, at: now() });
          }
        }
      }
      // Nothing announces a change in pg_stat_replication: asking is the only way.
      await pause(this.o.standbyPollMs ?? 1_000, signal);
    }
  }

  private async countWrites(): Promise<void> {
    const signal = this.abort.signal;
    const every = this.o.writesEveryMs ?? 10_000;
    let last = { count: this.o.writer.acknowledged, at: performance.now() };
    while (!signal.aborted) {
      await pause(every, signal);
      if (signal.aborted) return;
      const count = this.o.writer.acknowledged;
      const at = performance.now();
      const perSecond = Math.round(((count - last.count) * 1000) / Math.max(1, at - last.at));
      last = { count, at };
      this.o.emit({
        event: 'writes', acknowledged: count, perSecond, primary: this.memberByPort(this.o.writer.lastAck?.port),
        unanswered: this.o.writer.unanswered.length, at: now(),
      });
    }
  }
}

/** Whether the member is in recovery, the standbys streaming from it, and whose acknowledgement its commits wait for. */
export async function readReplication(endpoint: Endpoint, timeoutMs = 2_000): Promise<{ inRecovery: boolean; standbys: Standby[]; synchronousStandbyNames: string }> {
  const c = new pg.Client({ ...endpoint, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: 'bulwark-demo-watch' });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const { rows } = await c.query<{ r: boolean; names: string; name: string | null; state: string | null; sync: string | null }>(
      `SELECT pg_is_in_recovery() AS r, current_setting('synchronous_standby_names') AS names,
              s.application_name AS name, s.state, s.sync_state AS sync
         FROM (SELECT 1) AS one LEFT JOIN pg_stat_replication AS s ON true ORDER BY s.application_name`);
    const standbys = rows.filter((r) => r.name !== null).map((r) => ({ name: r.name ?? '', state: r.state ?? '', sync: r.sync ?? '' }));
    return { inRecovery: rows[0]?.r ?? true, standbys, synchronousStandbyNames: rows[0]?.names ?? '' };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The postmaster's pid from its data directory, or undefined when it is not running. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function now(): string {
  return new Date().toISOString();
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
