/**
 * PgBouncer inside `bulwark up`: one DatabasePooler for every PostgreSQL
 * database with `postgres.pooler`, on whichever host this daemon runs (the
 * gateway host). A reload restarts only the poolers whose settings changed.
 */
import type { Registry } from 'prom-client';
import { EtcdClient } from '../../coordination/index.js';
import type { BulwarkConfig } from '../../config/index.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Subsystem } from '../../core/lifecycle.js';
import { DEFAULT_PREFIX } from '../keys.js';
import { primaryTrackerFactory } from '../primary-tracker.js';
import { resolveRunAs } from '../runtime.js';
import { DatabasePooler, type PoolerSnapshot } from './database-pooler.js';
import { PoolerMetrics } from './pooler-metrics.js';
import type { PoolTotals } from './admin-console.js';

export interface PoolerServiceOptions {
  config: BulwarkConfig;
  registry: Registry;
  log: Logger;
}

export interface PoolerStatus extends PoolerSnapshot {
  pools: PoolTotals | undefined;
  poolsError?: string;
}

interface Running {
  pooler: DatabasePooler;
  fingerprint: string;
}

export class PoolerService implements Subsystem<BulwarkConfig> {
  readonly name = 'pooler';
  private config: BulwarkConfig;
  private etcd: EtcdClient | undefined;
  private readonly running = new Map<string, Running>();

  constructor(private readonly o: PoolerServiceOptions) {
    this.config = o.config;
    new PoolerMetrics(o.registry, () => this.statuses());
  }

  async start(): Promise<void> {
    try {
      await this.sync();
    } catch (err) {
      await this.stop(AbortSignal.timeout(10_000));
      throw err;
    }
  }

  async stop(deadline: AbortSignal): Promise<void> {
    await Promise.all([...this.running].map(([database, r]) => this.stopOne(database, r, deadline)));
    await this.etcd?.close().catch(() => undefined);
    this.etcd = undefined;
  }

  async reload(config: BulwarkConfig): Promise<void> {
    if (JSON.stringify(config.coordination?.etcd ?? null) !== JSON.stringify(this.config.coordination?.etcd ?? null)) {
      await this.stop(AbortSignal.timeout(10_000));
    }
    this.config = config;
    await this.sync().catch((err: unknown) => this.o.log.error({ err: errorMessage(err) }, 'could not apply the pooler configuration'));
  }

  /** Every running pooler with its pools (SHOW POOLS, summed). */
  async statuses(): Promise<PoolerStatus[]> {
    return Promise.all([...this.running.values()].map(async ({ pooler }) => {
      const snapshot = pooler.snapshot();
      try {
        return { ...snapshot, pools: await pooler.pools() };
      } catch (err) {
        return { ...snapshot, pools: undefined, poolsError: errorMessage(err) };
      }
    }));
  }

  private async sync(): Promise<void> {
    const wanted = new Map<string, string>();
    for (const [name, database] of Object.entries(this.config.databases)) {
      if (database.postgres?.pooler) wanted.set(name, JSON.stringify({ postgres: database.postgres, etcd: this.config.coordination?.etcd ?? null }));
    }
    for (const [database, r] of [...this.running]) {
      if (wanted.get(database) !== r.fingerprint) await this.stopOne(database, r, AbortSignal.timeout(10_000));
    }
    for (const [database, fingerprint] of wanted) {
      if (!this.running.has(database)) await this.startOne(database, fingerprint);
    }
  }

  private async startOne(database: string, fingerprint: string): Promise<void> {
    const postgres = this.config.databases[database]?.postgres;
    const config = postgres?.pooler;
    if (!postgres || !config) return;
    const settings = this.config.coordination?.etcd;
    if (settings && !this.etcd) {
      this.etcd = new EtcdClient({ endpoints: settings.endpoints, timeoutMs: 1000, ...(settings.username === undefined ? {} : { username: settings.username }), ...(settings.password === undefined ? {} : { password: settings.password }) });
    }
    const log = this.o.log.child({ database, pooler: config.listen });
    const tracker = primaryTrackerFactory({ log, ...(this.etcd ? { etcd: this.etcd } : {}) })(database, this.config);
    if (!tracker) return;
    const runAs = await resolveRunAs(database, postgres.run_as);
    const pooler = new DatabasePooler({ database, config, postgres, tracker, etcd: this.etcd, prefix: settings?.prefix ?? DEFAULT_PREFIX, runAs, log });
    try {
      await pooler.start();
    } catch (err) {
      await pooler.stop(AbortSignal.timeout(5000)).catch(() => undefined);
      throw err;
    }
    this.running.set(database, { pooler, fingerprint });
    log.info({ upstream: pooler.snapshot().upstream, poolMode: config.pool_mode }, 'PgBouncer serving this database');
  }

  private async stopOne(database: string, r: Running, deadline: AbortSignal): Promise<void> {
    this.running.delete(database);
    await r.pooler.stop(deadline).catch((err: unknown) => this.o.log.warn({ database, err: errorMessage(err) }, 'PgBouncer did not stop cleanly'));
  }
}
