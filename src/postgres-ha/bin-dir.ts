/**
 * Where PostgreSQL's server binaries are: `databases.NAME.postgres.bin_dir`
 * when configured, else `pg_config --bindir`, else the newest
 * /usr/lib/postgresql/VERSION/bin (Debian and Ubuntu's layout).
 */
import { execFile } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BulwarkError } from '../core/errors.js';

const execFileAsync = promisify(execFile);

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function binDirCandidates(): Promise<string[]> {
  const dirs: string[] = [];
  const fromPgConfig = await execFileAsync('pg_config', ['--bindir']).then((r) => r.stdout.trim(), () => '');
  if (fromPgConfig) dirs.push(fromPgConfig);
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  versions.filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a))
    .forEach((v) => dirs.push(`/usr/lib/postgresql/${v}/bin`));
  return dirs;
}

/** The first candidate directory holding both `initdb` and `postgres`. */
export async function findPostgresBinDir(): Promise<string> {
  for (const dir of await binDirCandidates()) {
    if ((await exists(join(dir, 'initdb'))) && (await exists(join(dir, 'postgres')))) return dir;
  }
  throw new BulwarkError('USAGE',
    'PostgreSQL server binaries (initdb, postgres) were not found via `pg_config --bindir` or in /usr/lib/postgresql/*/bin', {
      hint: 'install the PostgreSQL server package, or set databases.NAME.postgres.bin_dir (tests: run them with `bash scripts/test.sh`, which installs it)',
    });
}

/** A configured bin_dir must hold the server binaries: say so at start rather than at the first failover. */
export async function resolvePostgresBinDir(configured: string | undefined): Promise<string> {
  if (configured === undefined) return findPostgresBinDir();
  if (await exists(join(configured, 'postgres'))) return configured;
  throw new BulwarkError('USAGE', `bin_dir ${configured} has no postgres binary`, {
    hint: 'point databases.NAME.postgres.bin_dir at the directory holding postgres, initdb and pg_ctl (e.g. /usr/lib/postgresql/16/bin)',
  });
}
