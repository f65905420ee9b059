/**
 * One member as its own "host" for fault-injection tests: this script runs in
 * a child process (spawned by `MemberProcess`, through the tsx loader) and
 * holds a MemberManager and the PostgresMember it controls, so a test can
 * SIGKILL or SIGSTOP the manager together with its PostgreSQL.
 *
 * Protocol (IPC, structured clone):
 *   parent → runner  { type: 'config', config }   once, first
 *                    { type: 'stop', postgres }    graceful: manager.stop(), then PostgreSQL stopped
 *                                                  ('fast': clean shutdown; 'immediate': fenced), exit 0
 *                    { type: 'dump' }              answered by { type: 'dump', output }: PostgreSQL's recent output
 *   runner → parent  { type: 'ready', pgPid }      manager started (PostgreSQL too, when asked)
 *                    { type: 'event', name, info } every MemberManager event; `at` as epoch ms
 *                    { type: 'status', ... }       every 100 ms
 *                    { type: 'failed', error }     startup failed; the runner exits 1
 *                    { type: 'stall', gapMs, at }  the event loop ran again after a gap (SIGCONT)
 * Log lines (pino JSON) go to stdout, one per line; the parent merges them into the cluster's log.
 * If the parent goes away (IPC disconnect) the runner kills its PostgreSQL and exits.
 */
import { pino } from 'pino';
import { EtcdClient } from '../../coordination/index.js';
import { errorMessage } from '../../core/errors.js';
import { MemberManager, type MemberManagerOptions, type Peer } from '../member-manager.js';
import { PostgresMember, type PostgresMemberOptions } from '../postgres-process.js';

export interface MemberRunnerConfig {
  pg: Omit<PostgresMemberOptions, 'logger'>;
  database: string;
  peers: Peer[];
  etcdEndpoints: string[];
  /** Everything else the MemberManager takes (synchronousMode, synchronousModeStrict, ttlSeconds, loopWaitMs, ...). */
  manager: Omit<MemberManagerOptions, 'database' | 'pg' | 'peers' | 'etcd' | 'logger'>;
  /** Start PostgreSQL before the manager (bootstrap, as the in-process HaCluster does); otherwise the manager decides. */
  startPostgres: boolean;
}

/** Epoch milliseconds, fractional: comparable across processes (`performance.timeOrigin + performance.now()`). */
export type EpochMs = number;

export interface RunnerStatus {
  pgPid: number | undefined;
  pgRunning: boolean;
  leader: boolean;
  fenced: boolean;
  at: EpochMs;
}

export type ToRunner = { type: 'config'; config: MemberRunnerConfig } | { type: 'stop'; postgres: 'fast' | 'immediate' } | { type: 'dump' };
export type FromRunner =
  | { type: 'ready'; pgPid: number | undefined }
  | { type: 'event'; name: string; info: unknown }
  | ({ type: 'status' } & RunnerStatus)
  | { type: 'failed'; error: string }
  /** The event loop ran again after not running for `gapMs` (SIGSTOP/SIGCONT, or a stall); `at` when it ran again. */
  | { type: 'stall'; gapMs: number; at: EpochMs }
  | { type: 'dump'; output: string };

/** The MemberManager events forwarded to the parent. */
export const FORWARDED_EVENTS = ['action', 'acquired', 'promoted', 'fenced', 'syncChanged', 'rejoined', 'history', 'handover'] as const;

function send(message: FromRunner): void {
  if (process.connected) process.send?.(message);
}

function epoch(at: number): EpochMs {
  return performance.timeOrigin + at;
}

async function run(config: MemberRunnerConfig): Promise<void> {
  const log = pino({ level: 'info', base: { runner: config.pg.name, pid: process.pid } }, pino.destination({ fd: 1, sync: true }));
  const pg = new PostgresMember({ ...config.pg, logger: log });
  const etcd = new EtcdClient({ endpoints: config.etcdEndpoints, timeoutMs: 1000 });
  const manager = new MemberManager({ ...config.manager, database: config.database, pg, peers: config.peers, etcd, logger: log });

  for (const name of FORWARDED_EVENTS) {
    (manager as unknown as NodeJS.EventEmitter).on(name, (info: unknown) => {
      const withEpoch = info !== null && typeof info === 'object' && typeof (info as { at?: unknown }).at === 'number'
        ? { ...(info as Record<string, unknown>), at: epoch((info as { at: number }).at) }
        : info;
      send({ type: 'event', name, info: withEpoch });
    });
  }
  const status = (): void => send({
    type: 'status', pgPid: pg.pid, pgRunning: pg.running, leader: manager.lease.isLeader, fenced: manager.isFenced, at: epoch(performance.now()),
  });
  setInterval(status, 100).unref();
  // Runs before the lease's overdue deadline timer in the same timers phase (it was due earlier),
  // so `at` is when this process got the CPU back, not when the manager reacted.
  let tick = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - tick > 500) send({ type: 'stall', gapMs: now - tick, at: epoch(now) });
    tick = now;
  }, 20).unref();

  let stopping = false;
  process.on('message', (message: ToRunner) => {
    if (message.type === 'dump') send({ type: 'dump', output: pg.recentOutput() });
    if (message.type !== 'stop' || stopping) return;
    stopping = true;
    void (async () => {
      await manager.stop().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'manager stop failed'));
      await (message.postgres === 'fast' ? pg.stop() : pg.fence()).catch(() => undefined);
      await etcd.close().catch(() => undefined);
      process.exit(0);
    })();
  });
  // Our parent (the test) is gone: leave nothing behind.
  process.on('disconnect', () => {
    void pg.kill('SIGKILL').finally(() => process.exit(0));
  });

  if (config.startPostgres) await pg.start();
  await manager.start();
  status();
  send({ type: 'ready', pgPid: pg.pid });
}

process.once('message', (message: ToRunner) => {
  if (message.type !== 'config') return;
  run(message.config).catch((err: unknown) => {
    send({ type: 'failed', error: errorMessage(err) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100);
  });
});
