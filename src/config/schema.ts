import { z } from 'zod';
import { parseCondition } from '../conditions/index.js';
import { serviceTlsSchema, tlsOnlyForHttp, upstreamTlsSchema } from './schema-tls.js';
import { redisDatabase } from './schema-redis.js';
import { gatewayEngine, haproxySettings } from './schema-engine.js';
import { boundedDuration, databaseMember, duration, endpointUrl, exactlyOne, percentOrZero, httpUrl, listenAddress, name, percent, port, positiveInt, size } from './fields.js';

const HOUR_MS = 3_600_000;

const tier = z.strictObject({
  availability: percent(),
  rto: duration(),
  rpo: duration(),
  description: z.string().optional(),
});

const region = z.strictObject({ availability: percent().optional(), description: z.string().optional() });
const zone = z.strictObject({ region: name(), availability: percent().optional(), description: z.string().optional() });

const endpoint = z.strictObject({
  url: endpointUrl(),
  name: name().optional(),
  zone: name().optional(),
  backup: z.boolean().default(false),
  weight: z.number().int().min(0).max(1000).default(100),
  availability: percent().optional(),
});

const conditions = z.array(z.string()).default([]).superRefine((list, ctx) => {
  list.forEach((text, index) => {
    const parsed = parseCondition(text);
    if (!parsed.ok) {
      ctx.addIssue({
        code: 'custom', path: [index], message: parsed.error,
        params: { expected: 'a condition such as status == 200, response_time < 300ms, body.status == "healthy" or cert_expires_in > 14d' },
      });
    }
  });
});

const healthCheck = z.strictObject({
  type: z.enum(['http', 'tcp', 'command']).optional(),
  path: z.string().startsWith('/', { message: 'expected a path starting with "/"' }).default('/health'),
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  command: z.array(z.string().min(1)).min(1).optional(),
  conditions,
  max_body_size: size().default(65_536),
  tls_skip_verify: z.boolean().default(false),
  interval: boundedDuration(HOUR_MS).default(10_000),
  timeout: boundedDuration(HOUR_MS).default(5_000),
  fall: z.number().int().min(1).max(100).default(3),
  rise: z.number().int().min(1).max(100).default(2),
  grace_period: boundedDuration(HOUR_MS).default(0),
  jitter: percent().optional(),
  quorum: z.number().int().min(1).max(15).default(1),
});

/** Checks of database members: connect, role, replication lag. */
const databaseCheck = z.strictObject({
  interval: boundedDuration(HOUR_MS).default(5_000),
  timeout: boundedDuration(HOUR_MS).default(3_000),
  fall: z.number().int().min(1).max(100).default(3),
  rise: z.number().int().min(1).max(100).default(2),
  max_lag: size().optional(),
  quorum: z.number().int().min(1).max(15).default(1),
});

const loadBalancing = z.strictObject({
  algorithm: z.enum(['round_robin', 'least_connections', 'weighted', 'power_of_two_choices']).default('round_robin'),
  sticky_sessions: z.union([z.boolean(), z.strictObject({ cookie: z.string().min(1) })]).default(false),
});

const failover = z.strictObject({
  primary_zones: z.array(name()).optional(),
  min_healthy_share: percent().optional(),
  failback: z.boolean().default(true),
});

const outlierDetection = z.strictObject({
  consecutive_errors: positiveInt().default(5),
  consecutive_gateway_errors: positiveInt().optional(),
  base_ejection_time: duration().default(30_000),
  max_ejection_percent: percentOrZero().default(0.5),
});

const retryOn = z.enum(['5xx', 'gateway-error', 'reset', 'connect-failure', 'refused-stream']);
const retries = z.strictObject({
  attempts: z.number().int().min(0).max(10).default(2),
  per_try_timeout: duration().optional(),
  retry_on: z.array(retryOn).default(['connect-failure', 'reset']),
  backoff: z.strictObject({ base: duration().default(25), max: duration().default(250) }).optional(),
  budget: percent().default(0.2),
  non_idempotent: z.boolean().default(false),
});

const limits = z.strictObject({
  max_connections: positiveInt().optional(),
  max_pending_requests: positiveInt().optional(),
  max_request_header_size: size().optional(),
  max_request_body_size: size().optional(),
  header_read_timeout: duration().optional(),
});

const rateLimit = z.strictObject({
  requests_per_second: z.number().positive(),
  burst: positiveInt().optional(),
  key: z.string().regex(/^(client_ip|header:[A-Za-z0-9-]+)$/, { message: 'expected client_ip or header:NAME' }).default('client_ip'),
});

const service = z.strictObject({
  tier: name().optional(),
  description: z.string().optional(),
  protocol: z.enum(['http', 'tcp']).default('http'),
  listen: listenAddress().optional(),
  endpoints: z.array(endpoint).min(1, { message: 'expected at least one endpoint' }),
  health_check: healthCheck.optional(),
  load_balancing: loadBalancing.optional(),
  failover: failover.optional(),
  outlier_detection: outlierDetection.optional(),
  retries: retries.optional(),
  timeout: duration().optional(),
  connect_timeout: duration().optional(),
  limits: limits.optional(),
  rate_limit: rateLimit.optional(),
  /** TCP services: close the sessions of an endpoint marked down (HAProxy's on-marked-down shutdown-sessions). */
  on_marked_down: z.enum(['keep-sessions', 'shutdown-sessions']).default('keep-sessions'),
  depends_on: z.array(name()).default([]),
  tls: serviceTlsSchema.optional(),
  upstream_tls: upstreamTlsSchema.optional(),
  /** This service's data plane; `gateway.engine` when unset. */
  engine: gatewayEngine.optional(),
}).superRefine(tcpUrlsOnlyForTcp).superRefine(tlsOnlyForHttp);

/** An HTTP service's probes and proxy find no HTTP origin in a tcp:// URL. */
function tcpUrlsOnlyForTcp(service: { protocol: string; endpoints: Array<{ url: string }> }, ctx: z.RefinementCtx): void {
  if (service.protocol === 'tcp') return;
  service.endpoints.forEach((endpoint, index) => {
    if (!/^tcp:\/\//i.test(endpoint.url)) return;
    ctx.addIssue({
      code: 'custom', path: ['endpoints', index, 'url'],
      message: `a tcp:// endpoint URL needs protocol: tcp on its service (this one is ${service.protocol})`,
      params: { expected: 'http://host:port, https://host[:port] or host:port' },
    });
  });
}

/** Settings this daemon sets itself on every member; a `settings` entry for one of them would be silently overridden or break replication. */
export const MANAGED_PG_SETTINGS = [
  'port', 'cluster_name', 'data_directory', 'unix_socket_directories', 'synchronous_standby_names',
  'primary_conninfo', 'primary_slot_name', 'hot_standby',
] as const;

const pgSettings = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, { message: 'expected a postgresql.conf parameter name such as shared_buffers' }),
  z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
).default({}).superRefine((settings, ctx) => {
  for (const key of Object.keys(settings)) {
    if (!(MANAGED_PG_SETTINGS as readonly string[]).includes(key.toLowerCase())) continue;
    ctx.addIssue({
      code: 'custom', path: [key],
      message: `${key} is set by bulwark on every member (from the member's port, socket_dir and the HA loop); remove it from settings`,
      params: { expected: `a parameter other than ${MANAGED_PG_SETTINGS.join(', ')}` },
    });
  }
});

/** A PostgreSQL member: run by this daemon when it has `data_dir`. */
const pgMember = databaseMember.extend({
  /** Patroni-style health endpoints (/primary, /replica, /health) for this member, for load balancers. */
  health_port: port().optional(),
  /** Seed 000's per-member mode: an asynchronous member is never a synchronous standby, so never a failover candidate in synchronous mode. */
  replication: z.enum(['synchronous', 'asynchronous']).default('synchronous'),
});

/** Covers a standby re-pointing at a newly promoted primary (one HA loop and a reconnect) with room to spare. */
export const DEFAULT_DEGRADE_AFTER_MS = 5_000;

/**
 * PgBouncer in front of the current primary, on every host whose daemon has this database in its
 * configuration (src/postgres-ha/pooler). Defaults are PgBouncer's own; write the seed's values.
 */
const pooler = z.strictObject({
  /** Where clients connect; PgBouncer listens here. */
  listen: listenAddress().default('127.0.0.1:6432'),
  pool_mode: z.enum(['transaction', 'session', 'statement']).default('transaction'),
  max_client_conn: z.number().int().min(1).max(1_000_000).default(100),
  default_pool_size: z.number().int().min(1).max(10_000).default(20),
  /** A planned switchover waits this long for PgBouncer's PAUSE (transactions in flight to finish) before it goes on anyway. */
  pause_timeout: boundedDuration(HOUR_MS).default(10_000),
  /** The pgbouncer binary; found on PATH (and /usr/sbin) by default. */
  bin: z.string().min(1).optional(),
});

const postgres = z.strictObject({
  members: z.array(pgMember).min(1, { message: 'expected at least one member' }),
  synchronous: z.union([
    z.boolean(),
    z.strictObject({
      standbys: z.number().int().min(1).default(1), strict: z.boolean().default(false),
      /** synchronous_standby_names' method: ANY n (quorum: any n of the set) or FIRST n (the first n by priority). */
      method: z.enum(['any', 'first']).default('any'),
      /** Non-strict: how long commits wait with no synchronous standby before the primary goes asynchronous. */
      degrade_after: duration().default(DEFAULT_DEGRADE_AFTER_MS),
    }),
  ]).default(false),
  maximum_lag_on_failover: size().default(1_048_576),
  ttl: duration().default(10_000),
  loop_wait: duration().default(2_000),
  retry_timeout: duration().default(3_000),
  use_pg_rewind: z.boolean().default(true),
  replication_user: z.string().default('replicator'),
  replication_password: z.string().optional(),
  superuser: z.string().default('postgres'),
  superuser_password: z.string().optional(),
  /** PostgreSQL's binaries (initdb, postgres, pg_ctl, pg_basebackup, pg_rewind); by default the newest /usr/lib/postgresql/VERSION/bin. */
  bin_dir: z.string().min(1).optional(),
  /** The OS user PostgreSQL runs as when the daemon runs as root (PostgreSQL refuses to run as root). */
  run_as: z.string().min(1).optional(),
  /** Where the members' Unix sockets go; /tmp by default. */
  socket_dir: z.string().min(1).optional(),
  /** The gateway's TCP front door that always leads to the current primary. */
  listen: listenAddress().optional(),
  /** More postgresql.conf settings for members this daemon creates. */
  settings: pgSettings,
  /** Run PgBouncer on this host, pointed at the current primary, paused across switchovers. */
  pooler: pooler.optional(),
});


const database = z
  .strictObject({
    tier: name().optional(), description: z.string().optional(), postgres: postgres.optional(), redis: redisDatabase.optional(),
    health_check: databaseCheck.optional(),
  })
  .superRefine(exactlyOne(['postgres', 'redis'], 'a database'));

const coordination = z.strictObject({
  etcd: z.strictObject({
    endpoints: z.array(httpUrl()).min(1),
    prefix: z.string().default('/bulwark'),
    username: z.string().optional(),
    password: z.string().optional(),
  }).optional(),
});

export const storeSchema = z.strictObject({
  postgres: z.string().regex(/^postgres(ql)?:\/\//, { message: 'expected a postgres:// connection URL' }).optional(),
});

const api = z.strictObject({ listen: listenAddress().default('127.0.0.1:9180') });

const gatewayHost = z.strictObject({
  name: name(), zone: name().optional(), host: z.string().min(1).optional(), availability: percent().optional(),
});

const gatewayVip = z.strictObject({
  address: z.string().min(1),
  /** VRRP's advertisement interval: a backup takes the address over after about 3.6 of them without one. */
  advert_interval: boundedDuration(60_000).default(1_000),
});

const gatewaySettings = z.strictObject({
  /** Worker processes for the data plane: 1 runs it in the daemon; "auto" uses every core. */
  workers: z.union([z.number().int().min(1).max(64), z.literal('auto')]).default(1),
  /**
   * How worker processes get connections: the daemon hands each to the worker with the
   * fewest open ones, or every worker accepts on the shared socket as the kernel wakes it.
   */
  accept: z.enum(['least_connections', 'kernel']).default('least_connections'),
  /** The hosts the gateway runs on, for the planner: each one a failure domain in front of the services with listen:. */
  hosts: z.array(gatewayHost).min(1).optional(),
  /** A virtual IP that moves between the gateway hosts (keepalived, VRRP), for the planner's failover time. */
  vip: gatewayVip.optional(),
  /** The data plane of services that name none: the built-in engine, or HAProxy driven by the daemon. */
  engine: gatewayEngine.default('builtin'),
  haproxy: haproxySettings.prefault({}),
});

const probes = z.strictObject({
  /** The name this daemon reports its own checks under, among the agents' vantage points. */
  vantage: name().default('local'),
  zone: name().optional(),
  max_concurrent: z.number().int().min(1).max(100_000).default(2048),
  /** An agent silent for this long is flagged, and its view no longer counts. */
  agent_timeout: boundedDuration(HOUR_MS).default(30_000),
  /** How long each resolution of probe history is kept; see the README for the bytes per monitor. */
  history: z.strictObject({
    raw: duration().default(3_600_000),
    minute: duration().default(2 * 86_400_000),
    hour: duration().default(90 * 86_400_000),
    day: duration().default(400 * 86_400_000),
    state_changes: duration().default(400 * 86_400_000),
  }).prefault({}),
});

export const availabilityDefaults = z.strictObject({
  endpoint: percent().default(0.995),
  zone: percent().default(0.9999),
  region: percent().default(0.9999),
});

export { backupsSchema, statusPageSchema, maintenanceSchema, drTestingSchema } from './schema-ops.js';
import { backupsSchema, statusPageSchema, maintenanceSchema, drTestingSchema } from './schema-ops.js';
export * from './schema-alerting.js';
import { alertingSchema, templatesSchema } from './schema-alerting.js';
import { runbooksSchema } from './schema-runbooks.js';
import { clusterSchema } from './schema-cluster.js';

export const configSchema = z.strictObject({
  version: z.literal(1).default(1),
  name: z.string().optional(),
  store: storeSchema.optional(),
  api: api.default({ listen: '127.0.0.1:9180' }),
  coordination: coordination.optional(),
  cluster: clusterSchema.optional(),
  probes: probes.prefault({}),
  gateway: gatewaySettings.prefault({}),
  availability_defaults: availabilityDefaults.default({ endpoint: 0.995, zone: 0.9999, region: 0.9999 }),
  sla_tiers: z.record(name(), tier).default({}),
  regions: z.record(name(), region).default({}),
  zones: z.record(name(), zone).default({}),
  services: z.record(name(), service).default({}),
  databases: z.record(name(), database).default({}),
  backups: backupsSchema.optional(),
  alerting: alertingSchema.optional(),
  communication_templates: templatesSchema.default({}),
  status_page: statusPageSchema.optional(),
  maintenance_windows: maintenanceSchema.default([]),
  dr_testing: drTestingSchema.default({}),
  runbooks: runbooksSchema.default({}),
});

export type BulwarkConfig = z.output<typeof configSchema>;
export type ServiceConfig = BulwarkConfig['services'][string];
export type DatabaseConfig = BulwarkConfig['databases'][string];
export type TierConfig = BulwarkConfig['sla_tiers'][string];
export type PostgresConfig = NonNullable<DatabaseConfig['postgres']>;
export type PostgresMemberConfig = PostgresConfig['members'][number];
export type PoolerConfig = NonNullable<PostgresConfig['pooler']>;
export type CoordinationConfig = NonNullable<BulwarkConfig['coordination']>;
export type HealthCheckConfig = z.output<typeof healthCheck>;
export type DatabaseCheckConfig = z.output<typeof databaseCheck>;

/**
 * A service's health check when its `health_check` says nothing: the schema's
 * own defaults, read from the schema (parsing `{}`), so they are written once.
 */
export const SERVICE_CHECK_DEFAULTS: Readonly<HealthCheckConfig> = Object.freeze(healthCheck.parse({}));
/** A database member's checks when its `health_check` says nothing: the schema's defaults. */
export const DATABASE_CHECK_DEFAULTS: Readonly<DatabaseCheckConfig> = Object.freeze(databaseCheck.parse({}));

/** The health check a service runs: its own, or the schema's defaults when it names none. */
export function serviceHealthCheck(service: ServiceConfig): Readonly<HealthCheckConfig> {
  return service.health_check ?? SERVICE_CHECK_DEFAULTS;
}

/** The checks of a database's members: its own, or the schema's defaults when it names none. */
export function databaseHealthCheck(database: DatabaseConfig): Readonly<DatabaseCheckConfig> {
  return database.health_check ?? DATABASE_CHECK_DEFAULTS;
}
