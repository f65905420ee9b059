/**
 * PostgreSQL servers started and stopped with pg_ctl, for a database without etcd (no member managers):
 * `bulwark db switchover` without coordination (local-switchover.ts) and the tests that set one up.
 */
import { spawn } from 'node:child_process';
import { chown, open, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BulwarkError, errorMessage } from '../core/errors.js';
import type { RunAs } from './postgres-process.js';

export interface PgCtlOptions {
  database: string;
  binDir: string;
  socketDir: string;
  runAs?: RunAs;
}

/**
 * The server log of a member started with pg_ctl: `<data_dir>.log` beside the data directory, or,
 * when that cannot be written, `<socket_dir>/bulwark-<database>-<member>.log`. Created (and, as
 * root, given to the run_as user) here, since pg_ctl opens it as that user.
 */
export async function prepareLogFile(o: PgCtlOptions, m: { name: string; dataDir: string }): Promise<string> {
  const dataDir = resolve(m.dataDir);
  const candidates = [join(dirname(dataDir), `${basename(dataDir)}.log`), join(o.socketDir, `bulwark-${o.database}-${m.name}.log`)];
  let last: unknown;
  for (const path of candidates) {
    try {
      const handle = await open(path, 'a', 0o640);
      await handle.close();
      if (o.runAs) await chown(path, o.runAs.uid, o.runAs.gid);
      return path;
    } catch (err) {
      last = err;
    }
  }
  throw new BulwarkError('INTERNAL', `no place for ${m.name}'s server log (${candidates.join(', ')}): ${errorMessage(last)}`, { hint: 'make the data directory\'s parent or the socket directory writable' });
}

/** `pg_ctl start -w -D DATA -l LOG -o "-p PORT -k SOCKETDIR"`: pg_ctl's -o goes through a shell, hence the quoting. */
export async function pgCtlStart(o: PgCtlOptions, m: { port: number; dataDir: string }, logFile: string, timeoutSeconds = 60): Promise<void> {
  await pgCtl(o, ['start', '-w', '-t', String(timeoutSeconds), '-D', m.dataDir, '-l', logFile, '-o', `-p ${m.port} -k ${shellQuote(o.socketDir)}`]).catch(async (err: unknown) => {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join(' | ');
    throw new BulwarkError('BACKEND_UNAVAILABLE', `pg_ctl start -D ${m.dataDir} failed: ${errorMessage(err)}${tail ? `; server log: ${tail}` : ''}`, { hint: `see ${logFile}` });
  });
}

export function pgCtlStartCommand(o: PgCtlOptions, m: { port: number; dataDir: string }, logFile: string): string {
  return `pg_ctl start -w -D ${m.dataDir} -l ${logFile} -o "-p ${m.port} -k ${shellQuote(o.socketDir)}"`;
}

export async function pgCtl(o: PgCtlOptions, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runPgCtl(o, args);
  if (r.code !== 0) throw new BulwarkError('INTERNAL', `pg_ctl ${args[0]} failed: ${(r.stderr || r.stdout || `exit ${r.code}`).trim()}`);
  return r;
}

export async function isRunning(o: PgCtlOptions, dataDir: string): Promise<boolean> {
  // 3: not running. Anything else (4: no accessible data directory, ...): assume it may still run.
  return (await runPgCtl(o, ['status', '-D', dataDir])).code !== 3;
}

/**
 * pg_ctl in its own process group: a Ctrl-C at the terminal reaches the whole foreground group, and
 * a `pg_ctl stop -w` killed half way would leave us not knowing whether the server is stopping.
 */
function runPgCtl(o: PgCtlOptions, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(o.binDir, 'pg_ctl'), args, {
      detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, ...o.runAs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(-8192)));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-8192)));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
