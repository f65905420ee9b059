/**
 * redis.conf and sentinel.conf of the members and Sentinels this daemon runs,
 * from bulwark.yaml. Both files are written once, when absent, with mode 0600
 * (they hold the password): after that they belong to Redis and Sentinel,
 * which rewrite them (`replicaof` after a failover, Sentinel's epochs and the
 * replicas and Sentinels it discovered). Writing them again at every start
 * would send a restarted Sentinel back to the first master.
 */
import { isIP } from 'node:net';
import type { RedisDatabaseConfig, SentinelConfig } from '../config/index.js';

/** Redis' config-file quoting (sdssplitargs): a double-quoted string with \\, \" and \n escaped. */
export function redisQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;
}

export interface ProcessAddress { host: string; port: number; dataDir: string }

/** Persistence on by default: a member that restarts must not come back empty and be copied over its replicas. */
const PERSISTENCE: Record<string, string> = { appendonly: 'yes', appendfsync: 'everysec', save: '3600 1 300 100 60 10000' };

function common(address: ProcessAddress): string[] {
  const lines = [`port ${address.port}`, `dir ${redisQuote(address.dataDir)}`, 'daemonize no', 'logfile ""'];
  if (isIP(address.host) !== 0) lines.splice(1, 0, `bind ${address.host}`);
  return lines;
}

/** A member's redis.conf; `master` is where it replicates from at first (undefined: it starts as the master). */
export function memberConf(address: ProcessAddress, redis: RedisDatabaseConfig, master: { host: string; port: number } | undefined): string {
  const lines = ['# written by bulwark (redis-ha) from bulwark.yaml; Redis and Sentinel rewrite it from now on', ...common(address)];
  for (const [key, value] of Object.entries({ ...PERSISTENCE, ...redis.settings })) lines.push(`${key} ${value}`);
  if (redis.password !== undefined) lines.push(`requirepass ${redisQuote(redis.password)}`, `masterauth ${redisQuote(redis.password)}`);
  if (master) lines.push(`replicaof ${master.host} ${master.port}`);
  return `${lines.join('\n')}\n`;
}

/** The tunables bulwark sets on the master Sentinel monitors, as `SENTINEL SET` and sentinel.conf name them. */
export function sentinelTunables(sentinel: SentinelConfig): Array<[string, string]> {
  return [
    ['down-after-milliseconds', String(sentinel.down_after)],
    ['failover-timeout', String(sentinel.failover_timeout)],
    ['parallel-syncs', String(sentinel.parallel_syncs)],
  ];
}

/** A Sentinel's sentinel.conf, monitoring `master` (the first member) under the configured name. */
export function sentinelConf(address: ProcessAddress, redis: RedisDatabaseConfig, sentinel: SentinelConfig, master: { host: string; port: number }): string {
  const name = sentinel.master_name;
  const lines = ['# written by bulwark (redis-ha) from bulwark.yaml; Sentinel rewrites it from now on', ...common(address)];
  if ([master.host, ...redis.members.map((m) => m.host)].some((host) => isIP(host) === 0)) lines.push('sentinel resolve-hostnames yes');
  if (sentinel.password !== undefined) lines.push(`requirepass ${redisQuote(sentinel.password)}`, `sentinel sentinel-pass ${redisQuote(sentinel.password)}`);
  lines.push(`sentinel monitor ${name} ${master.host} ${master.port} ${sentinel.quorum}`);
  if (redis.password !== undefined) lines.push(`sentinel auth-pass ${name} ${redisQuote(redis.password)}`);
  for (const [key, value] of sentinelTunables(sentinel)) lines.push(`sentinel ${key} ${name} ${value}`);
  return `${lines.join('\n')}\n`;
}
