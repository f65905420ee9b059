import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BulwarkConfig } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import type { BaseBackupInfo } from '../postgres/index.js';
import type { PolicyConfig } from './repos.js';
import type { RepoWalStore } from './repo-wal-store.js';
import { chooseRedisSource } from './redis-source.js';

export interface PreparedSource {
  paths: string[];
  exclude: string[];
  oneFileSystem: boolean;
  source: { kind: 'paths' | 'postgres' | 'redis'; name?: string; policy: string };
  meta?: Record<string, unknown>;
  /** Called once the snapshot is saved (or the run failed): removes temporary dumps. */
  cleanup: () => Promise<void>;
}

export async function prepareSource(config: BulwarkConfig, policyName: string, policy: PolicyConfig, wal: RepoWalStore | undefined, signal?: AbortSignal): Promise<PreparedSource> {
  const src = policy.source;
  const base = { exclude: src.exclude, oneFileSystem: src.one_file_system, cleanup: async () => undefined };
  if (src.paths) return { ...base, paths: src.paths, source: { kind: 'paths', policy: policyName } };
  if (src.postgres) return preparePostgres(config, policyName, src.postgres, wal, signal);
  if (src.redis) return prepareRedis(config, policyName, src.redis, signal);
  throw new BulwarkError('USAGE', `policy ${policyName} reads standard input, which only \`bulwark backup run --stdin\` can give`, { hint: 'run it from a pipe: pg_dump ... | bulwark backup run --stdin -r REPO' });
}

async function preparePostgres(config: BulwarkConfig, policyName: string, database: string, wal: RepoWalStore | undefined, signal?: AbortSignal): Promise<PreparedSource> {
  const pg = config.databases[database]?.postgres;
  if (!pg) throw new BulwarkError('CONFIG_INVALID', `policy ${policyName} backs up database "${database}", which is not a PostgreSQL database in databases:`, { hint: 'name a database that has a postgres: section' });
  const member = pg.members[0]!;
  const connection = { host: member.host, port: member.port, user: pg.superuser, password: pg.superuser_password };
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-basebackup-'));
  const target = join(dir, 'data');
  const cleanup = () => rm(dir, { recursive: true, force: true });
  // pg loads only for PostgreSQL policies: every other run (and the CLI) starts faster without it.
  const { takeBaseBackup, waitForWalArchived } = await import('../postgres/base-backup.js');
  let info: BaseBackupInfo;
  try {
    info = await takeBaseBackup({ connection, targetDir: target, signal, label: `bulwark ${policyName}` });
    // A base backup is only restorable once the WAL up to its end is archived: the snapshot must not claim more.
    if (wal) info = await waitForWalArchived({ connection, store: wal, backup: info, signal });
  } catch (err) {
    await cleanup();
    throw err;
  }
  return {
    paths: [target], exclude: [], oneFileSystem: false, cleanup,
    source: { kind: 'postgres', name: database, policy: policyName },
    meta: { postgres: info },
  };
}

async function prepareRedis(config: BulwarkConfig, policyName: string, database: string, signal?: AbortSignal): Promise<PreparedSource> {
  const redis = config.databases[database]?.redis;
  if (!redis) throw new BulwarkError('CONFIG_INVALID', `policy ${policyName} backs up database "${database}", which is not a Redis database in databases:`, { hint: 'name a database that has a redis: section' });
  const choice = await chooseRedisSource(database, config.databases[database]!);
  const member = choice.member;
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-rdb-'));
  const file = join(dir, 'dump.rdb');
  const env = { ...process.env, ...(redis.password ? { REDISCLI_AUTH: redis.password } : {}) };
  try {
    await promisify(execFile)('redis-cli', ['-h', member.host, '-p', String(member.port), '--rdb', file], { env, signal });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new BulwarkError('BACKEND_UNAVAILABLE', `could not fetch the RDB file of ${database} from ${member.host}:${member.port}: ${(err as Error).message.split('\n')[0]}`, { hint: 'check that redis-cli is installed and the server is reachable', cause: err });
  }
  return { paths: [dir], exclude: [], oneFileSystem: false, cleanup: () => rm(dir, { recursive: true, force: true }), source: { kind: 'redis', name: database, policy: policyName }, meta: { redis: choice } };
}
