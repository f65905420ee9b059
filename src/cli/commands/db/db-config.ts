import type { Command } from 'commander';
import { loadValidConfig, parseDuration, type PostgresConfig } from '../../../config/index.js';
import { EtcdClient } from '../../../coordination/etcd-client.js';
import { BulwarkError } from '../../../core/errors.js';
import { secretRegistry } from '../../../core/secrets.js';
import type { ControlTopology } from '../../../postgres-ha/control.js';
import { haPlan, type DatabaseHaPlan } from '../../../postgres-ha/ha-config.js';
import { databaseKeys, type DatabaseKeys } from '../../../postgres-ha/keys.js';
import { resolveRuntime, type MemberRuntime } from '../../../postgres-ha/runtime.js';

export interface DbOptions {
  config: string;
  json?: boolean;
}

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

export function addDbOptions(command: Command, json = true): Command {
  command.requiredOption('-c, --config <file>', 'configuration file (bulwark.yaml)');
  return json ? command.option('--json', 'print the result as JSON') : command;
}

/** The database NAME of bulwark.yaml, its members' endpoints, and an etcd client when coordination.etcd is set. */
export async function openDb(options: DbOptions, name: string): Promise<DbTarget> {
  const { config } = await loadValidConfig(options.config);
  const database = config.databases[name];
  if (!database) {
    const known = Object.entries(config.databases).filter(([, d]) => d.postgres).map(([n]) => n);
    throw new BulwarkError('USAGE', `bulwark.yaml has no database "${name}"`, { hint: known.length > 0 ? `PostgreSQL databases: ${known.join(', ')}` : 'add it under databases: with a postgres: section' });
  }
  const pg = database.postgres;
  if (!pg) throw new BulwarkError('USAGE', `database "${name}" is not PostgreSQL`, { hint: '`bulwark db` manages databases with a postgres: section' });
  const plan = haPlan(name, pg, config.coordination);
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

export function requireMember(target: DbTarget, member: string, flag: string): void {
  if (!target.members.some((m) => m.name === member)) {
    throw new BulwarkError('USAGE', `${flag} ${member}: database ${target.name} has no member "${member}"`, { hint: `members: ${target.members.map((m) => m.name).join(', ')}` });
  }
}

export function durationOption(flag: string, text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.value <= 0) throw new BulwarkError('USAGE', `${flag} "${text}" is not a duration`, { hint: `e.g. ${flag} 30s` });
  return parsed.value;
}

/** bin_dir and the run_as user resolved as `bulwark up` resolves them (src/postgres-ha/runtime.ts). */
export async function localRuntime(target: DbTarget): Promise<MemberRuntime> {
  return resolveRuntime(target.plan);
}
