/**
 * Redis with Sentinel inside `bulwark up`: for every Redis database, the
 * members with `data_dir` run here as redis-server children and the Sentinels
 * with `data_dir` as `redis-server --sentinel` children, their configs written
 * from bulwark.yaml. Sentinels given as `host:port` are adopted: asked, never
 * managed. Sentinel alone decides failovers; this service only keeps the
 * processes running and tells the Sentinels the configured timings.
 *
 * A member that exits unasked is started again after RESTART_DELAY_MS, except
 * the master: it waits until the Sentinels name another master (or
 * down-after + failover-timeout pass), so it rejoins as a replica instead of
 * racing the failover with a dataset that may be behind what a replica
 * already acknowledged to clients.
 */
import type { BulwarkConfig, RedisDatabaseConfig, SentinelConfig } from '../config/index.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Subsystem } from '../core/lifecycle.js';
import { sleep } from '../core/time.js';
import { memberConf, sentinelConf, sentinelTunables } from './conf.js';
import { MasterTracker } from './master-tracker.js';
import { RedisProcess } from './redis-process.js';
import { readRedisStatus, type RedisStatus } from './operator.js';
import { ask } from './sentinel-query.js';

const RESTART_DELAY_MS = 1_000;

export interface RedisHaServiceOptions {
  config: BulwarkConfig;
  log: Logger;
  /** Tests: Sentinel poll interval of the trackers (1 s). */
  pollMs?: number;
}

interface RunningDatabase {
  name: string;
  fingerprint: string;
  members: RedisProcess[];
  sentinels: RedisProcess[];
  tracker: MasterTracker | undefined;
  stopping: AbortController;
}

export class RedisHaService implements Subsystem<BulwarkConfig> {
  readonly name = 'redis-ha';
  private readonly running = new Map<string, RunningDatabase>();
  private config: BulwarkConfig;

  constructor(private readonly o: RedisHaServiceOptions) {
    this.config = o.config;
  }

  async start(): Promise<void> {
    for (const [name, database] of Object.entries(this.o.config.databases)) {
      if (database.redis) await this.startDatabase(name, database.redis);
    }
  }

  async stop(deadline: AbortSignal): Promise<void> {
    await Promise.all([...this.running.values()].map((db) => this.stopDatabase(db, deadline)));
  }

  async reload(config: BulwarkConfig): Promise<void> {
    this.config = config;
    for (const [name, running] of [...this.running]) {
      const redis = config.databases[name]?.redis;
      if (redis && fingerprint(redis) === running.fingerprint) continue;
      await this.stopDatabase(running, AbortSignal.timeout(30_000));
      if (redis) await this.startDatabase(name, redis);
    }
    for (const [name, database] of Object.entries(config.databases)) {
      if (database.redis && !this.running.has(name)) await this.startDatabase(name, database.redis);
    }
  }

  /** Every Redis database's roles, offsets and which Sentinels agree, asked now (`bulwark status`, GET /api/v1/redis). */
  async statuses(): Promise<RedisStatus[]> {
    const redis = Object.entries(this.config.databases).filter(([, database]) => database.redis);
    return Promise.all(redis.map(([name, database]) => readRedisStatus(name, database)));
  }

  /** The tracker of a database's master (status, tests). */
  tracker(database: string): MasterTracker | undefined {
    return this.running.get(database)?.tracker;
  }

  /** The processes this daemon runs for a database (status, tests). */
  processes(database: string): { members: RedisProcess[]; sentinels: RedisProcess[] } {
    const running = this.running.get(database);
    return { members: running?.members ?? [], sentinels: running?.sentinels ?? [] };
  }

  private async startDatabase(name: string, redis: RedisDatabaseConfig): Promise<void> {
    const log = this.o.log.child({ database: name });
    const db: RunningDatabase = { name, fingerprint: fingerprint(redis), members: [], sentinels: [], tracker: undefined, stopping: new AbortController() };
    this.running.set(name, db);
    const first = redis.members[0]!;
    for (const member of redis.members) {
      if (member.data_dir === undefined) continue;
      const dataDir = member.data_dir;
      const master = member === first ? undefined : { host: first.host, port: first.port };
      const process: RedisProcess = new RedisProcess({
        kind: 'redis', name: member.name, host: member.host, port: member.port, dataDir, password: redis.password, log,
        conf: () => memberConf({ host: member.host, port: member.port, dataDir }, redis, master),
        onExit: () => void this.restartMember(db, process, redis.sentinel, log),
      });
      db.members.push(process);
    }
    const sentinel = redis.sentinel;
    if (sentinel) {
      for (const s of sentinel.sentinels) {
        if (s.data_dir === undefined) continue;
        const dataDir = s.data_dir;
        const process: RedisProcess = new RedisProcess({
          kind: 'sentinel', name: s.name, host: s.host, port: s.port, dataDir, password: sentinel.password, log,
          conf: () => sentinelConf({ host: s.host, port: s.port, dataDir }, redis, sentinel, first),
          onExit: () => void this.restartLater(db, process, RESTART_DELAY_MS, log),
        });
        db.sentinels.push(process);
      }
      db.tracker = new MasterTracker({
        database: name, masterName: sentinel.master_name, members: redis.members,
        sentinels: sentinel.sentinels, sentinelPassword: sentinel.password, pollMs: this.o.pollMs, log,
      });
    }
    for (const process of db.members) await process.start(db.stopping.signal);
    for (const process of db.sentinels) {
      await process.start(db.stopping.signal);
      if (sentinel) await this.applyTunables(process, sentinel, log);
    }
    await db.tracker?.start();
  }

  /** The timings in bulwark.yaml win over what a Sentinel's own (rewritten) file says. */
  private async applyTunables(process: RedisProcess, sentinel: SentinelConfig, log: Logger): Promise<void> {
    const entry = sentinel.sentinels.find((s) => s.name === process.name)!;
    const set = ['SENTINEL', 'SET', sentinel.master_name, 'quorum', String(sentinel.quorum), ...sentinelTunables(sentinel).flat()];
    await ask({ host: entry.host, port: entry.port, password: sentinel.password, timeoutMs: 2_000 }, [set])
      .catch((err: unknown) => log.warn({ sentinel: process.name, err: errorMessage(err) }, 'could not apply the Sentinel timings from bulwark.yaml'));
  }

  private async restartMember(db: RunningDatabase, process: RedisProcess, sentinel: SentinelConfig | undefined, log: Logger): Promise<void> {
    const tracker = db.tracker;
    if (!sentinel || !tracker || tracker.current?.member !== process.name) return this.restartLater(db, process, RESTART_DELAY_MS, log);
    log.warn({ member: process.name }, 'the master exited; it starts again once the Sentinels have named another master');
    const moved = new Promise<void>((resolve) => {
      const onPrimary = (): void => {
        if (tracker.current === undefined || tracker.current.member === process.name) return;
        tracker.off('primary', onPrimary);
        resolve();
      };
      tracker.on('primary', onPrimary);
      db.stopping.signal.addEventListener('abort', () => { tracker.off('primary', onPrimary); resolve(); }, { once: true });
      void sleep(sentinel.down_after + sentinel.failover_timeout, db.stopping.signal).then(() => { tracker.off('primary', onPrimary); resolve(); });
    });
    await moved;
    await this.restartLater(db, process, 0, log);
  }

  private async restartLater(db: RunningDatabase, process: RedisProcess, delayMs: number, log: Logger): Promise<void> {
    if (!(await sleep(delayMs, db.stopping.signal)) && delayMs > 0) return;
    if (db.stopping.signal.aborted) return;
    await process.start(db.stopping.signal).catch((err: unknown) => {
      log.error({ process: process.name, err: errorMessage(err) }, 'could not start again; trying later');
      void this.restartLater(db, process, Math.max(RESTART_DELAY_MS, delayMs * 2), log);
    });
  }

  private async stopDatabase(db: RunningDatabase, deadline: AbortSignal): Promise<void> {
    db.stopping.abort();
    this.running.delete(db.name);
    await db.tracker?.stop();
    // Sentinels first: stopping members under running Sentinels would start a failover.
    await Promise.all(db.sentinels.map((p) => p.stop(deadline)));
    await Promise.all(db.members.map((p) => p.stop(deadline)));
  }
}

function fingerprint(redis: RedisDatabaseConfig): string {
  return JSON.stringify(redis);
}
