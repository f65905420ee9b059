/**
 * The operator's view of one database: what `bulwark db` (init, status, switchover,
 * failover) builds from bulwark.yaml before acting. The same plan `bulwark up` builds
 * (ha-config.ts), an etcd client when coordination.etcd is set, and the option sets of
 * bootstrap and local switchover filled in from them.
 */
import type { BulwarkConfig, PostgresConfig } from '../config/index.js';
import { EtcdClient } from '../coordination/index.js';
import { BulwarkError } from '../core/errors.js';
import { secretRegistry } from '../core/secrets.js';
import { bootstrap, type BootstrapResult } from './bootstrap.js';
import type { ControlTopology } from './control.js';
import { haPlan, type DatabaseHaPlan } from './ha-config.js';
import { thisHost } from './member-selection.js';
import { databaseKeys, type DatabaseKeys } from './keys.js';
import { localSwitchover, type LocalSwitchoverResult } from './local-switchover.js';
import { resolveRuntime, type MemberRuntime } from './runtime.js';

export interface DbTarget {
  name: string;
  pg: PostgresConfig;
  /** The same plan `bulwark up` builds from the configuration (src/postgres-ha/ha-config.ts). */
  plan: DatabaseHaPlan;
  topology: ControlTopology;
  /** Present when coordination.etcd is configured. */
  etcd: { client: EtcdClient; keys: DatabaseKeys; endpoints: readonly string[] } | undefined;
  members: PostgresConfig['members'];
  close(): Promise<void>;
}

/** The database NAME of a loaded bulwark.yaml, its members' endpoints, and an etcd client when coordination.etcd is set. */
export function openDb(config: BulwarkConfig, name: string, node?: string): DbTarget {
  const database = config.databases[name];
  if (!database) {
    const known = Object.entries(config.databases).filter(([, d]) => d.postgres).map(([n]) => n);
    throw new BulwarkError('USAGE', `bulwark.yaml has no database "${name}"`, { hint: known.length > 0 ? `PostgreSQL databases: ${known.join(', ')}` : 'add it under databases: with a postgres: section' });
  }
  const pg = database.postgres;
  if (!pg) throw new BulwarkError('USAGE', `database "${name}" is not PostgreSQL`, { hint: '`bulwark db` manages databases with a postgres: section' });
  const plan = haPlan(name, pg, config.coordination, thisHost(node));
  secretRegistry.add(plan.password);
  const topology: ControlTopology = {
    database: name, members: plan.members,
    synchronousMode: plan.settings.synchronousMode, maximumLagOnFailover: plan.settings.maximumLagOnFailover,
  };
  let etcd: DbTarget['etcd'];
  if (plan.etcd) {
    if (plan.etcd.password) secretRegistry.add(plan.etcd.password);
    const client = new EtcdClient({ endpoints: plan.etcd.endpoints, timeoutMs: 2000, username: plan.etcd.username, password: plan.etcd.password });
    etcd = { client, keys: databaseKeys(name, plan.prefix), endpoints: plan.etcd.endpoints };
  }
  return { name, pg, plan, topology, etcd, members: pg.members, close: async () => etcd?.client.close() };
}

/** bin_dir and the run_as user resolved as `bulwark up` resolves them (src/postgres-ha/runtime.ts). */
export async function localRuntime(target: DbTarget): Promise<MemberRuntime> {
  return resolveRuntime(target.plan);
}

function memberEndpoints(target: DbTarget): Array<{ name: string; host: string; port: number; dataDir?: string }> {
  // data_dir counts only for the members this host runs (member-selection.ts): the same file serves every host.
  const here = new Set(target.plan.local.map((m) => m.name));
  return target.members.map((m) => ({ name: m.name, host: m.host, port: m.port, ...(m.data_dir && here.has(m.name) ? { dataDir: m.data_dir } : {}) }));
}

export interface InitDbOptions {
  runtime: MemberRuntime;
  /** The superuser's password (databases.NAME.postgres.superuser_password), checked by the caller. */
  password: string;
  adopt: boolean;
  primary?: string;
  onStep?: (line: string) => void;
}

/** `bulwark db init`: bootstrap (or adopt) the members on this host with the plan's settings (src/postgres-ha/bootstrap.ts). */
export async function initDb(target: DbTarget, o: InitDbOptions): Promise<BootstrapResult> {
  return bootstrap({
    database: target.name, adopt: o.adopt, primary: o.primary,
    members: memberEndpoints(target),
    binDir: o.runtime.binDir, socketDir: target.plan.socketDir, runAs: o.runtime.runAs, settings: target.plan.pgSettings,
    superuser: target.pg.superuser, password: o.password, replication: target.plan.replication,
    etcd: target.etcd ? { client: target.etcd.client, keys: target.etcd.keys } : undefined,
    onStep: o.onStep,
  });
}

export interface SwitchoverLocallyOptions {
  runtime: MemberRuntime;
  password: string;
  /** The standby to promote; undefined: the best streaming standby. */
  to?: string;
  followTimeoutMs: number;
  onStep?: (line: string) => void;
}

/** A switchover without etcd, carried out from this host (src/postgres-ha/local-switchover.ts). */
export async function switchoverLocally(target: DbTarget, o: SwitchoverLocallyOptions): Promise<LocalSwitchoverResult> {
  return localSwitchover({
    database: target.name, to: o.to,
    members: memberEndpoints(target),
    binDir: o.runtime.binDir, runAs: o.runtime.runAs, socketDir: target.plan.socketDir, superuser: target.pg.superuser, password: o.password,
    synchronousMode: target.plan.settings.synchronousMode, synchronousModeStrict: target.plan.settings.synchronousModeStrict,
    followTimeoutMs: o.followTimeoutMs, onStep: o.onStep,
  });
}
