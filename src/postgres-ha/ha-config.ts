/**
 * From `bulwark.yaml` to what the member managers of one database take: pure,
 * no I/O. `bulwark check` has already refused unsafe values (see
 * src/config/lint/postgres.ts and timings.ts); nothing here re-validates them.
 */
import { DEFAULT_DEGRADE_AFTER_MS, type BulwarkConfig, type CoordinationConfig, type PostgresConfig } from '../config/index.js';
import { DEFAULT_PREFIX } from './keys.js';
import type { PgEndpoint } from './pg-query.js';
import { runsHere, thisHost, type HostIdentity } from './member-selection.js';
import type { SyncQuorum } from './postgres-process.js';

/** Where PostgreSQL puts its Unix sockets when `socket_dir` is not set: PostgreSQL's own compiled-in default. */
export const DEFAULT_SOCKET_DIR = '/tmp';

/** The member manager's settings, as `MemberManagerOptions` takes them. */
export interface HaManagerSettings {
  ttlSeconds: number;
  loopWaitMs: number;
  /** Bound on each etcd or PostgreSQL call in the loop: `retry_timeout`. */
  requestTimeoutMs: number;
  synchronousMode: boolean;
  synchronousModeStrict: boolean;
  /** Non-strict synchronous mode: how long commits wait with no synchronous standby before the primary goes asynchronous. */
  synchronousDegradeAfterMs: number;
  /** `synchronous.standbys` and `method`: synchronous_standby_names' `ANY n` or `FIRST n`. */
  synchronousQuorum: SyncQuorum;
  maximumLagOnFailover: bigint;
  usePgRewind: boolean;
}

/** The settings `MemberManager.reconfigure` applies to a running loop; the others need a restart. */
export const RECONFIGURABLE = ['ttlSeconds', 'loopWaitMs', 'synchronousMode', 'synchronousModeStrict', 'synchronousDegradeAfterMs', 'maximumLagOnFailover'] as const;
export type ReconfigurableKey = (typeof RECONFIGURABLE)[number];

export interface HaPeer {
  name: string;
  endpoint: PgEndpoint;
  /** `replication: asynchronous`: never a synchronous standby, so never a candidate in synchronous mode. */
  asynchronous?: boolean;
}

/** A member with `data_dir`: this daemon runs its PostgreSQL and its HA loop. */
export interface LocalMemberPlan {
  name: string;
  host: string;
  port: number;
  dataDir: string;
  healthPort: number | undefined;
  /** Every other member of the database, local or not. */
  peers: HaPeer[];
}

export interface EtcdSettings {
  endpoints: string[];
  prefix: string;
  username: string | undefined;
  password: string | undefined;
}

/** Everything needed to run one database's local members. */
export interface DatabaseHaPlan {
  database: string;
  /** etcd key prefix (`coordination.etcd.prefix`). */
  prefix: string;
  /** Absent: no coordination.etcd, so no automatic failover. */
  etcd: EtcdSettings | undefined;
  settings: HaManagerSettings;
  superuser: string;
  password: string;
  /** The role standbys replicate as: `replication_user`, with `replication_password` (the superuser's when unset). */
  replication: { user: string; password: string };
  /** Configured `bin_dir`; undefined means "find it" (src/postgres-ha/bin-dir.ts). */
  binDir: string | undefined;
  /** OS user name to run PostgreSQL as when the daemon is root. */
  runAs: string | undefined;
  socketDir: string;
  /** Extra postgresql.conf settings, for members created on this host. */
  pgSettings: Record<string, string>;
  /** Every member, local or not, in configuration order. */
  members: HaPeer[];
  local: LocalMemberPlan[];
}

export function etcdSettings(coordination: CoordinationConfig | undefined): EtcdSettings | undefined {
  const etcd = coordination?.etcd;
  if (!etcd) return undefined;
  return { endpoints: [...etcd.endpoints], prefix: etcd.prefix, username: etcd.username, password: etcd.password };
}

export function managerSettings(pg: PostgresConfig): HaManagerSettings {
  const sync = pg.synchronous;
  return {
    // The lint refuses a ttl that is not whole seconds; rounding up keeps a hand-built config safe too.
    ttlSeconds: Math.ceil(pg.ttl / 1000),
    loopWaitMs: pg.loop_wait,
    requestTimeoutMs: pg.retry_timeout,
    synchronousMode: sync !== false,
    synchronousModeStrict: typeof sync === 'object' ? sync.strict : false,
    synchronousDegradeAfterMs: typeof sync === 'object' ? sync.degrade_after : DEFAULT_DEGRADE_AFTER_MS,
    synchronousQuorum: typeof sync === 'object' ? { method: sync.method === 'first' ? 'FIRST' : 'ANY', count: sync.standbys } : { method: 'ANY', count: 1 },
    maximumLagOnFailover: BigInt(Math.round(pg.maximum_lag_on_failover)),
    usePgRewind: pg.use_pg_rewind,
  };
}

/** One database's plan: its settings, every member as a peer endpoint, and the members this host runs (member-selection.ts). */
export function haPlan(database: string, pg: PostgresConfig, coordination: CoordinationConfig | undefined, where: HostIdentity = thisHost()): DatabaseHaPlan {
  const password = pg.superuser_password ?? '';
  const members: HaPeer[] = pg.members.map((m) => ({
    name: m.name, endpoint: { host: m.host, port: m.port, user: pg.superuser, password }, ...(m.replication === 'asynchronous' ? { asynchronous: true } : {}),
  }));
  const local: LocalMemberPlan[] = pg.members.flatMap((m) => (m.data_dir === undefined || !runsHere(m, where) ? [] : [{
    name: m.name, host: m.host, port: m.port, dataDir: m.data_dir, healthPort: m.health_port,
    peers: members.filter((p) => p.name !== m.name),
  }]));
  const etcd = etcdSettings(coordination);
  return {
    database, prefix: etcd?.prefix ?? DEFAULT_PREFIX, etcd, settings: managerSettings(pg),
    superuser: pg.superuser, password, replication: { user: pg.replication_user, password: pg.replication_password ?? password }, binDir: pg.bin_dir, runAs: pg.run_as, socketDir: pg.socket_dir ?? DEFAULT_SOCKET_DIR,
    pgSettings: { ...pg.settings }, members, local,
  };
}

/** Plans of every PostgreSQL database, in configuration order. */
export function haPlans(config: BulwarkConfig, where: HostIdentity = thisHost()): DatabaseHaPlan[] {
  return Object.entries(config.databases).flatMap(([name, db]) => (db.postgres ? [haPlan(name, db.postgres, config.coordination, where)] : []));
}

/** The reconfigurable settings that differ, with their new values; empty when none do. */
export function reconfiguration(from: HaManagerSettings, to: HaManagerSettings): Partial<Pick<HaManagerSettings, ReconfigurableKey>> {
  const out: Partial<Pick<HaManagerSettings, ReconfigurableKey>> = {};
  for (const key of RECONFIGURABLE) {
    if (from[key] !== to[key]) (out as Record<string, unknown>)[key] = to[key];
  }
  return out;
}

/**
 * What a running member was built from, besides the reconfigurable settings:
 * when it changes, the change only takes effect when the member's manager is
 * started again. Names of what differs; empty when nothing does.
 */
export function restartOnlyChanges(from: DatabaseHaPlan, to: DatabaseHaPlan, member: string): string[] {
  const a = from.local.find((m) => m.name === member);
  const b = to.local.find((m) => m.name === member);
  if (!a || !b) return [];
  const fields: Array<[string, unknown, unknown]> = [
    ['host', a.host, b.host], ['port', a.port, b.port], ['data_dir', a.dataDir, b.dataDir],
    ['members', peerKey(a.peers), peerKey(b.peers)], ['retry_timeout', from.settings.requestTimeoutMs, to.settings.requestTimeoutMs],
    ['use_pg_rewind', from.settings.usePgRewind, to.settings.usePgRewind], ['superuser', from.superuser, to.superuser],
    ['superuser_password', from.password, to.password],
    ['replication_user', from.replication.user, to.replication.user], ['replication_password', from.replication.password, to.replication.password], ['bin_dir', from.binDir, to.binDir], ['run_as', from.runAs, to.runAs],
    ['socket_dir', from.socketDir, to.socketDir], ['synchronous.standbys', quorumKey(from.settings.synchronousQuorum), quorumKey(to.settings.synchronousQuorum)], ['settings', JSON.stringify(from.pgSettings), JSON.stringify(to.pgSettings)],
  ];
  return fields.filter(([, x, y]) => x !== y).map(([name]) => name);
}

function peerKey(peers: readonly HaPeer[]): string {
  return peers.map((p) => `${p.name}@${p.endpoint.host}:${p.endpoint.port}${p.asynchronous ? '(async)' : ''}`).join(',');
}

function quorumKey(q: SyncQuorum): string {
  return `${q.method} ${q.count}`;
}

export function sameEtcd(a: EtcdSettings | undefined, b: EtcdSettings | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
