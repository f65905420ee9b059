/** Finding PostgreSQL programs, and the OS user that runs PostgreSQL when we are root. */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { BulwarkError } from '../../core/errors.js';

const execFileAsync = promisify(execFile);

export interface OsUser {
  uid: number;
  gid: number;
}

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

async function versionedDirs(parent: string, pattern: RegExp, toBin: (name: string) => string): Promise<string[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  return names.filter((n) => pattern.test(n)).sort((a, b) => parseFloat(b.replace(/^\D+/, '')) - parseFloat(a.replace(/^\D+/, '')))
    .map(toBin);
}

async function candidateDirs(major: string | undefined): Promise<string[]> {
  const dirs = major ? [`/usr/lib/postgresql/${major}/bin`, `/usr/pgsql-${major}/bin`] : [];
  const fromPgConfig = await execFileAsync('pg_config', ['--bindir']).then((r) => r.stdout.trim(), () => '');
  if (fromPgConfig) dirs.push(fromPgConfig);
  dirs.push(...await versionedDirs('/usr/lib/postgresql', /^\d+(\.\d+)?$/, (v) => `/usr/lib/postgresql/${v}/bin`));
  dirs.push(...await versionedDirs('/usr', /^pgsql-\d+$/, (v) => `/usr/${v}/bin`));
  dirs.push('/usr/local/pgsql/bin', ...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  return [...new Set(dirs)];
}

/** Major version a program reports, e.g. `pg_basebackup (PostgreSQL) 15.18` gives `15`. */
export async function programMajorVersion(path: string): Promise<string | undefined> {
  const out = await execFileAsync(path, ['--version']).then((r) => r.stdout, () => '');
  return /\(PostgreSQL\)\s+(\d+)/.exec(out)?.[1];
}

/**
 * The first directory holding all of `programs` (of major version `major`, when
 * given: a data directory only starts under its own major version).
 */
export async function findPgBinDir(programs: string[], major?: string): Promise<string> {
  for (const dir of await candidateDirs(major)) {
    if (!(await Promise.all(programs.map((p) => executable(join(dir, p))))).every(Boolean)) continue;
    if (major === undefined || (await programMajorVersion(join(dir, programs[0] ?? 'postgres'))) === major) return dir;
  }
  const what = `${programs.join(', ')}${major ? ` of PostgreSQL ${major}` : ''}`;
  throw new BulwarkError('NOT_FOUND', `PostgreSQL programs (${what}) were not found`, {
    hint: `install the PostgreSQL${major ? ` ${major}` : ''} server package, or pass the directory holding them (binDir)`,
  });
}

async function idOf(name: string): Promise<OsUser | undefined> {
  try {
    const uid = Number((await execFileAsync('id', ['-u', name])).stdout.trim());
    const gid = Number((await execFileAsync('id', ['-g', name])).stdout.trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL refuses to run as root; when we are root, it runs as (and its
 * data directory belongs to) `name`. Undefined when we are not root.
 */
export async function postgresOsUser(name = 'postgres'): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const user = await idOf(name);
  if (user) return user;
  throw new BulwarkError('USAGE', `running as root, and there is no "${name}" user to run PostgreSQL as`, {
    hint: 'create the user PostgreSQL runs as (usually postgres), or run as that user instead of root',
  });
}
