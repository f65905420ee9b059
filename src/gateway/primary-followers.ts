import type { BulwarkConfig } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import { databaseListen, type PrimaryAddress, type PrimaryListener, type PrimarySource, type PrimarySourceFactory } from './database-services.js';
import type { ServiceGateway } from './service-gateway.js';

interface Followed {
  source: PrimarySource;
  fingerprint: string;
  listener: PrimaryListener;
}

/**
 * One primary tracker per database that has `postgres.listen`, made by the
 * factory the daemon gave the gateway. Every decision goes to `onChange`; a
 * reload replaces only the trackers whose settings changed, and the old
 * decision stays in force until the new tracker's first one, so a reload does
 * not drop the sessions of a primary that did not change.
 */
export class PrimaryFollowers {
  private readonly followed = new Map<string, Followed>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly factory: PrimarySourceFactory | undefined,
    private readonly onChange: (database: string, primary: PrimaryAddress | undefined) => void,
    private readonly log: Logger,
  ) {}

  current(database: string): PrimaryAddress | undefined {
    return this.followed.get(database)?.source.current;
  }

  async sync(config: BulwarkConfig): Promise<void> {
    const wanted = new Map<string, string>();
    for (const [name, database] of Object.entries(config.databases)) {
      if (databaseListen(database) === undefined) continue;
      if (database.postgres) wanted.set(name, JSON.stringify({ postgres: database.postgres, etcd: config.coordination?.etcd ?? null }));
      else if (database.redis) wanted.set(name, JSON.stringify({ redis: database.redis }));
    }
    for (const [name, followed] of [...this.followed]) {
      if (wanted.get(name) !== followed.fingerprint) await this.unfollow(name, followed);
    }
    for (const [name, fingerprint] of wanted) {
      if (!this.followed.has(name)) await this.follow(name, fingerprint, config);
    }
  }

  async stop(deadline?: AbortSignal): Promise<void> {
    await Promise.all([...this.followed].map(([name, f]) => this.unfollow(name, f, deadline)));
  }

  private async follow(name: string, fingerprint: string, config: BulwarkConfig): Promise<void> {
    const source = this.factory?.(name, config);
    if (!source) {
      if (!this.warned.has(name)) {
        this.warned.add(name);
        this.log.error({ database: name }, `databases.${name}'s listen is set but no primary tracker is available (a Redis database needs sentinel:): the listener routes to no one`);
      }
      return;
    }
    const listener: PrimaryListener = (primary) => this.onChange(name, primary);
    source.on('primary', listener);
    this.followed.set(name, { source, fingerprint, listener });
    await source.start();
  }

  private async unfollow(name: string, followed: Followed, deadline?: AbortSignal): Promise<void> {
    followed.source.off('primary', followed.listener);
    this.followed.delete(name);
    await followed.source.stop(deadline).catch((err: unknown) => this.log.warn({ database: name, err: String(err) }, 'primary tracker did not stop cleanly'));
  }
}

/**
 * Routes a database service to `primary` alone: every other member is marked
 * down first (a database service closes their sessions), then the primary up
 * (which wakes the connections queued for it). `undefined`: everyone down.
 */
export function routeToPrimary(gateway: ServiceGateway, primary: PrimaryAddress | undefined, log: Logger): void {
  const ids = gateway.pool.snapshot().endpoints.map((e) => e.id);
  for (const id of ids) if (id !== primary?.member) gateway.setHealth(id, 'down');
  if (!primary) return;
  if (!ids.includes(primary.member)) {
    log.error({ service: gateway.name, member: primary.member }, 'the primary is not a member of the database service; routing to no one');
    return;
  }
  gateway.setHealth(primary.member, 'up');
}
