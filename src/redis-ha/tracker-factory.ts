import type { BulwarkConfig } from '../config/index.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { MasterTracker } from './master-tracker.js';

/**
 * The gateway's primary source for a Redis database with `sentinel:` (the shape of
 * src/gateway's PrimarySourceFactory): a MasterTracker over its Sentinels.
 */
export function masterTrackerFactory(options: { log?: Logger; pollMs?: number } = {}): (database: string, config: BulwarkConfig) => MasterTracker | undefined {
  return (database, config) => {
    const redis = config.databases[database]?.redis;
    if (!redis?.sentinel) return undefined;
    return new MasterTracker({
      database, masterName: redis.sentinel.master_name, members: redis.members, sentinels: redis.sentinel.sentinels,
      sentinelPassword: redis.sentinel.password, pollMs: options.pollMs, log: options.log ?? silentLogger(),
    });
  };
}
