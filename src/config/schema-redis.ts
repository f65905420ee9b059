import { z } from 'zod';
import { databaseMember, duration, hostName, listenAddress, name, port } from './fields.js';

/** Sentinel's defaults as seed 000 writes them: master "mymaster", quorum 2, down-after 30 s, failover-timeout 180 s, parallel-syncs 1. */
export const SENTINEL_DEFAULTS = {
  master_name: 'mymaster', quorum: 2, down_after: 30_000, failover_timeout: 180_000, parallel_syncs: 1,
} as const;

/** Settings bulwark writes itself into a member's redis.conf; a `settings` entry for one of them would break replication or supervision. */
export const MANAGED_REDIS_SETTINGS = [
  'port', 'bind', 'dir', 'daemonize', 'requirepass', 'masterauth', 'replicaof', 'slaveof', 'logfile', 'pidfile', 'supervised',
] as const;

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port` of a Sentinel another party runs (adopted), or one this daemon runs (`data_dir`). */
const sentinelEntry = z.union([
  z.string().regex(HOST_PORT, { message: 'expected host:port of a Sentinel, such as 10.0.1.5:26379' }).transform((text) => {
    const match = HOST_PORT.exec(text)!;
    const host = match[1]!.replace(/^\[|\]$/g, '');
    return { name: `${host}:${match[2]}`, host, port: Number(match[2]), data_dir: undefined as string | undefined, zone: undefined as string | undefined };
  }),
  z.strictObject({ name: name(), host: hostName().default('127.0.0.1'), port: port(), data_dir: z.string().optional(), zone: name().optional() }),
]);

const redisSettings = z.record(
  z.string().regex(/^[a-z][a-z0-9-]*$/, { message: 'expected a redis.conf directive such as maxmemory or min-replicas-to-write' }),
  z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v))),
).default({}).superRefine((settings, ctx) => {
  for (const key of Object.keys(settings)) {
    if (!(MANAGED_REDIS_SETTINGS as readonly string[]).includes(key)) continue;
    ctx.addIssue({
      code: 'custom', path: [key],
      message: `${key} is set by bulwark on every member it runs (from the member's port, data_dir, password and Sentinel); remove it from settings`,
      params: { expected: `a directive other than ${MANAGED_REDIS_SETTINGS.join(', ')}` },
    });
  }
});

const sentinel = z.strictObject({
  master_name: z.string().regex(/^[A-Za-z0-9._-]+$/, { message: 'expected a master name such as mymaster' }).default(SENTINEL_DEFAULTS.master_name),
  quorum: z.number().int().min(1).max(15).default(SENTINEL_DEFAULTS.quorum),
  down_after: duration().default(SENTINEL_DEFAULTS.down_after),
  failover_timeout: duration().default(SENTINEL_DEFAULTS.failover_timeout),
  parallel_syncs: z.number().int().min(1).max(100).default(SENTINEL_DEFAULTS.parallel_syncs),
  /** `requirepass` of the Sentinels themselves (optional; a secret reference). */
  password: z.string().optional(),
  sentinels: z.array(sentinelEntry).min(1, { message: 'expected at least one Sentinel (three in different zones for a quorum of 2)' }),
}).superRefine((s, ctx) => {
  if (s.quorum > s.sentinels.length) {
    ctx.addIssue({
      code: 'custom', path: ['quorum'],
      message: `quorum ${s.quorum} needs at least ${s.quorum} Sentinels, and ${s.sentinels.length} are listed; add Sentinels or lower the quorum`,
      params: { expected: `a number from 1 to ${s.sentinels.length}` },
    });
  }
});

export const redisDatabase = z.strictObject({
  members: z.array(databaseMember).min(1),
  password: z.string().optional(),
  /** The gateway's TCP front door that always leads to the master Sentinel names. */
  listen: listenAddress().optional(),
  /** Where backups read the RDB: a healthy replica within max_lag (the master when none is), or the master always. */
  backup_from: z.enum(['replica', 'master']).default('replica'),
  /** More redis.conf directives for members this daemon runs (maxmemory, min-replicas-to-write, …). */
  settings: redisSettings,
  sentinel: sentinel.optional(),
});

export type RedisDatabaseConfig = z.output<typeof redisDatabase>;
export type SentinelConfig = z.output<typeof sentinel>;

/**
 * Sentinel's side of an election and a promotion, on top of down-after: the
 * Sentinels agree on ODOWN (they ask each other once a second), the failover
 * start is desynchronised by up to 1 s (SENTINEL_MAX_DESYNC), the leader is
 * voted, sends REPLICAOF NO ONE and sees the replica report role:master (INFO
 * every second during a failover).
 */
export const SENTINEL_ELECTION_AND_PROMOTION_MS = 3_000;

/** The time from the master's death to a new master, as Sentinel's timings bound it when the first election succeeds. */
export function sentinelFailoverEstimateMs(sentinel: Pick<SentinelConfig, 'down_after'>): number {
  return sentinel.down_after + SENTINEL_ELECTION_AND_PROMOTION_MS;
}
