import type { BulwarkConfig, DatabaseConfig, ServiceConfig } from '../config/index.js';
import type { ServiceBehaviour } from './service-gateway.js';

/**
 * A database with `postgres.listen` (or `redis.listen`) gets a TCP service in the
 * gateway whose only eligible endpoint is the current primary (the Redis master). Its key in the gateway is
 * `db:<database>`: `:` cannot appear in a configured name, so it never collides
 * with a service, and the admin API and metrics show it under that key.
 */
export const DATABASE_SERVICE_PREFIX = 'db:';

/** Where the writable primary of a database is, as its tracker decided. */
export interface PrimaryAddress {
  member: string;
  host: string;
  port: number;
}

export type PrimaryListener = (primary: PrimaryAddress | undefined) => void;

/**
 * What the gateway needs from a primary tracker (src/postgres-ha's
 * PrimaryTracker): the decision now, and an event on every change. `undefined`
 * means "route to no one" (a failover in progress, split brain, no leader).
 * The first decision is always emitted, even when it is `undefined`.
 */
export interface PrimarySource {
  readonly current: PrimaryAddress | undefined;
  on(event: 'primary', listener: PrimaryListener): unknown;
  off(event: 'primary', listener: PrimaryListener): unknown;
  start(): Promise<void>;
  stop(deadline?: AbortSignal): Promise<void>;
}

/** Builds the tracker of one database from the configuration; undefined when it cannot be tracked. */
export type PrimarySourceFactory = (database: string, config: BulwarkConfig) => PrimarySource | undefined;

/**
 * New connections that arrive while no primary is known (between the old
 * primary being fenced and the new one accepting writes) are held this long,
 * then closed. A crash failover measured 0.85–1.37 s from the last write on
 * the old primary to the first on the new one (src/postgres-ha/README.md), so
 * most clients connecting during one just see a slower connect.
 */
export const PRIMARY_QUEUE_MS = 3_000;

/** The behaviour of every database service: no routing until the tracker decides, sessions follow the primary. */
export const DATABASE_BEHAVIOUR: Readonly<ServiceBehaviour> = { startDown: true, closeSessionsOnDown: true, queueMs: PRIMARY_QUEUE_MS };

/** `databases.NAME.postgres.listen` or `databases.NAME.redis.listen`: the address of the database's front door. */
export function databaseListen(database: DatabaseConfig): string | undefined {
  return database.postgres?.listen ?? database.redis?.listen;
}

export function databaseServiceKey(database: string): string {
  return `${DATABASE_SERVICE_PREFIX}${database}`;
}

/** The database a service key stands for, or undefined for an ordinary service. */
export function databaseOfKey(key: string): string | undefined {
  return key.startsWith(DATABASE_SERVICE_PREFIX) ? key.slice(DATABASE_SERVICE_PREFIX.length) : undefined;
}

/**
 * The TCP service of a database: one endpoint per member (id = member name, as
 * the tracker reports it). No outlier detection (only the tracker decides who is
 * eligible) and no retry on another member: a connection either reaches the
 * primary or waits for one.
 */
export function databaseService(database: DatabaseConfig): ServiceConfig | undefined {
  const listen = databaseListen(database);
  const cluster = database.postgres ?? database.redis;
  if (listen === undefined || !cluster) return undefined;
  return {
    protocol: 'tcp',
    listen,
    endpoints: cluster.members.map((m) => ({ name: m.name, url: `${m.host}:${m.port}`, zone: m.zone, backup: false, weight: 100 })),
    outlier_detection: { consecutive_errors: 5, base_ejection_time: 30_000, max_ejection_percent: 0 },
    depends_on: [],
    on_marked_down: 'shutdown-sessions',
    ...(database.tier === undefined ? {} : { tier: database.tier }),
  };
}

/** Every database service of a configuration, by key. */
export function databaseServices(config: BulwarkConfig): Array<[string, ServiceConfig]> {
  const out: Array<[string, ServiceConfig]> = [];
  for (const [name, database] of Object.entries(config.databases)) {
    const service = databaseService(database);
    if (service) out.push([databaseServiceKey(name), service]);
  }
  return out;
}
