/**
 * PgBouncer's configuration and auth file for one database, written into a
 * private directory (0700, files 0600, owned by the user PgBouncer runs as).
 *
 * Authentication: clients log in with their own PostgreSQL role and password.
 * PgBouncer looks their SCRAM verifier up on the primary (`auth_query` as
 * `auth_user`, the configured superuser, whose password is the one line of the
 * auth file in clear) and then logs into PostgreSQL with the keys of the
 * client's own SCRAM exchange: no client password is stored here. The admin
 * console has its own user with a random password made at every start.
 */
import { chmod, chown, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolerConfig } from '../../config/index.js';
import { splitListen } from '../../core/net.js';
import type { RunAs } from '../postgres-process.js';

export const ADMIN_USER = 'bulwark_pooler_admin';

export interface PoolerUpstream {
  host: string;
  port: number;
}

export interface PoolerFiles {
  dir: string;
  ini: string;
  authFile: string;
}

export interface PoolerSecrets {
  superuser: string;
  superuserPassword: string;
  adminPassword: string;
}

/** A private directory for one database's PgBouncer files; removed at stop. */
export async function makePoolerDir(database: string, runAs: RunAs | undefined): Promise<PoolerFiles> {
  const dir = await mkdtemp(join(tmpdir(), `bulwark-pgbouncer-${database}-`));
  await chmod(dir, 0o700);
  if (runAs) await chown(dir, runAs.uid, runAs.gid);
  return { dir, ini: join(dir, 'pgbouncer.ini'), authFile: join(dir, 'users.txt') };
}

export async function removePoolerDir(files: PoolerFiles): Promise<void> {
  await rm(files.dir, { recursive: true, force: true });
}

/** pgbouncer.ini: every database name goes to `upstream` (the primary); PgBouncer's log goes to stderr, which we keep. */
export function renderIni(config: PoolerConfig, upstream: PoolerUpstream, files: PoolerFiles, superuser: string): string {
  const { host, port } = splitListen(config.listen);
  return [
    '; written by bulwark (src/postgres-ha/pooler); rewritten when the primary changes',
    '[databases]',
    `* = host=${upstream.host} port=${upstream.port}`,
    '',
    '[pgbouncer]',
    `listen_addr = ${host}`,
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'logfile =',
    'pidfile =',
    'auth_type = scram-sha-256',
    `auth_file = ${files.authFile}`,
    `auth_user = ${iniWord(superuser)}`,
    `admin_users = ${ADMIN_USER}`,
    `pool_mode = ${config.pool_mode}`,
    `max_client_conn = ${config.max_client_conn}`,
    `default_pool_size = ${config.default_pool_size}`,
    // node-postgres and JDBC send it; PgBouncer refuses unknown startup parameters otherwise.
    'ignore_startup_parameters = extra_float_digits',
    // After a failed connection PgBouncer turns clients away for server_login_retry (15 s by default):
    // kept short so the window between a primary's death and our PAUSE costs as few clients as possible.
    'server_login_retry = 0.1',
    'server_connect_timeout = 3',
    '',
  ].join('\n');
}

/** The auth file: the superuser (auth_user) and the admin console's user, passwords in clear (0600). */
export function renderAuthFile(secrets: PoolerSecrets): string {
  return `${quoted(secrets.superuser)} ${quoted(secrets.superuserPassword)}\n${quoted(ADMIN_USER)} ${quoted(secrets.adminPassword)}\n`;
}

/** Written beside and renamed over, so PgBouncer never reads half a file. */
export async function writePrivate(path: string, text: string, runAs: RunAs | undefined): Promise<void> {
  const temp = `${path}.new`;
  await writeFile(temp, text, { mode: 0o600 });
  await chmod(temp, 0o600);
  if (runAs) await chown(temp, runAs.uid, runAs.gid);
  await rename(temp, path);
}

function quoted(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

function iniWord(text: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(text)) throw new Error(`the superuser name "${text}" cannot be PgBouncer's auth_user; use a plain role name`);
  return text;
}
