/**
 * What running PostgreSQL on this host needs beyond the configuration's
 * values: the binaries' directory and, when the daemon is root, the uid/gid of
 * the `run_as` user (PostgreSQL refuses to run as root).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BulwarkError } from '../core/errors.js';
import { resolvePostgresBinDir } from './bin-dir.js';
import type { DatabaseHaPlan } from './ha-config.js';
import type { RunAs } from './postgres-process.js';

const execFileAsync = promisify(execFile);

export interface MemberRuntime {
  binDir: string;
  runAs: RunAs | undefined;
}

export async function resolveRuntime(plan: Pick<DatabaseHaPlan, 'database' | 'binDir' | 'runAs'>): Promise<MemberRuntime> {
  const [binDir, runAs] = await Promise.all([resolvePostgresBinDir(plan.binDir), resolveRunAs(plan.database, plan.runAs)]);
  return { binDir, runAs };
}

/**
 * As root: the uid and gid of `user`, which must be set. Not root: PostgreSQL
 * runs as this process's user, and `run_as` is only accepted when it names that user.
 */
export async function resolveRunAs(database: string, user: string | undefined, uid = process.getuid?.()): Promise<RunAs | undefined> {
  const key = `databases.${database}.postgres.run_as`;
  if (uid !== 0) {
    if (user === undefined) return undefined;
    const ids = await lookup(user, key);
    if (ids.uid === uid) return undefined;
    throw new BulwarkError('USAGE', `${key} is "${user}", but bulwark runs as uid ${uid} and can only start PostgreSQL as another user when it runs as root`, {
      hint: `remove run_as, or run bulwark as root (or as ${user})`,
    });
  }
  if (user === undefined) {
    throw new BulwarkError('USAGE', `bulwark runs as root and PostgreSQL refuses to run as root: ${key} is not set`, {
      hint: `set ${key} to the user that owns the data directories (usually postgres)`,
    });
  }
  const ids = await lookup(user, key);
  if (ids.uid === 0) throw new BulwarkError('USAGE', `${key} is "${user}", which is root: PostgreSQL refuses to run as root`, { hint: 'name an unprivileged user such as postgres' });
  return ids;
}

async function lookup(user: string, key: string): Promise<RunAs> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', '--', user]).then((r) => Number(r.stdout.trim())),
      execFileAsync('id', ['-g', '--', user]).then((r) => Number(r.stdout.trim())),
    ]);
    return { uid, gid };
  } catch (err) {
    throw new BulwarkError('USAGE', `${key}: there is no user "${user}" on this host`, { hint: 'create the user, or name an existing one such as postgres', cause: err });
  }
}
