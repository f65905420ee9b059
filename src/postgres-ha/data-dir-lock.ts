/**
 * One manager per PostgreSQL data directory. A second `bulwark up` pointed at the
 * same data directories (other ports, another --data-dir) used to start, fail to
 * start PostgreSQL, and meanwhile rewrite postgresql.auto.conf and standby.signal
 * under the running servers. This lock is taken before anything touches the
 * directory and held for the life of the manager.
 *
 * The lock is flock(2) on `<parent>/.<name>.bulwark.lock`, held by a small
 * util-linux `flock` child whose stdin is a pipe from this process: when this
 * process exits, however it dies, the pipe closes, the child exits and the kernel
 * drops the lock. No stale lock file to clean up, unlike a pid file. The file sits
 * beside the data directory, not in it, because a rejoin by base backup moves the
 * directory aside and pg_basebackup wants an empty one.
 *
 * PostgreSQL's own postmaster.pid is checked too: a live postmaster before the
 * manager starts (started by hand, or by something that is not Bulwark) means the
 * directory is someone else's; the manager's own PostgreSQL dies with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BulwarkError } from '../core/errors.js';

const CONFLICT_EXIT = 75;
const FLOCK = ['/usr/bin/flock', '/bin/flock'].find((p) => existsSync(p)) ?? 'flock';

/** Who holds a lock, as written into the lock file by the holder. */
export interface LockHolder {
  pid: number;
  since: string;
  command: string;
  purpose: string;
}

export function lockPathFor(dataDir: string): string {
  return join(dirname(dataDir), `.${basename(dataDir)}.bulwark.lock`);
}

export class DataDirLock {
  private constructor(readonly dataDir: string, readonly path: string, private child: ChildProcess | undefined) {}

  /**
   * Takes the lock or throws DATA_DIR_LOCKED naming the holder. `purpose` says what
   * this process does with the directory ("member manager of main/pg1", "db init").
   * `allowRunningPostmaster`: `db init --adopt` takes over servers started by hand.
   */
  static async acquire(dataDir: string, purpose: string, options: { allowRunningPostmaster?: boolean } = {}): Promise<DataDirLock> {
    const path = lockPathFor(dataDir);
    await mkdir(dirname(path), { recursive: true });
    const child = await holdFlock(path);
    if (!child) {
      const holder = await readHolder(path);
      const who = holder ? `${holder.purpose}, pid ${holder.pid}, since ${holder.since}: ${holder.command}` : 'another process';
      throw new BulwarkError('DATA_DIR_LOCKED', `the PostgreSQL data directory ${dataDir} is already managed by ${who}`, {
        hint: 'only one bulwark may run a data directory: stop the other one first, or give this configuration its own data_dir for each member',
        context: { dataDir, lock: path, ...(holder ? { holderPid: holder.pid } : {}) },
      });
    }
    const lock = new DataDirLock(dataDir, path, child);
    try {
      if (!options.allowRunningPostmaster) await refuseForeignPostmaster(dataDir);
      const holder: LockHolder = { pid: process.pid, since: new Date().toISOString(), command: process.argv.slice(1).join(' '), purpose };
      await writeFile(path, `${JSON.stringify(holder)}\n`);
    } catch (err) {
      await lock.release();
      throw err;
    }
    return lock;
  }

  get held(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async release(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // Referenced again while we wait: otherwise a process with nothing else to do exits before the lock is let go.
    child.ref();
    child.stdin?.end();
    await exited;
  }
}

/** The flock child holding the lock, or undefined when someone else holds it. */
function holdFlock(path: string): Promise<ChildProcess | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(FLOCK, ['--nonblock', '--conflict-exit-code', String(CONFLICT_EXIT), path, '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    const onExit = (code: number | null): void => {
      if (code === CONFLICT_EXIT) return resolve(undefined);
      reject(new BulwarkError('INTERNAL', `could not take the lock ${path}: flock exited with ${code}: ${stderr.trim()}`, {
        hint: 'bulwark needs util-linux flock and write access to the data directory\'s parent directory',
      }));
    };
    child.on('error', (err) => reject(new BulwarkError('INTERNAL', `could not run ${FLOCK}: ${err.message}`, { hint: 'install util-linux (apt-get install util-linux)' })));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', onExit);
    child.stdout?.once('data', () => {
      child.off('exit', onExit);
      child.stdout?.resume();
      child.stderr?.resume();
      // Unref'd: a held lock must not keep the process alive; the pipe still ends with the process.
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
      resolve(child);
    });
  });
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
    return typeof parsed.pid === 'number' ? (parsed as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** A live postmaster in the directory before its manager starts: nobody but the manager may run it. */
async function refuseForeignPostmaster(dataDir: string): Promise<void> {
  const pidFile = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (pidFile === undefined) return;
  const lines = pidFile.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !(await isPostgres(pid))) return;
  const port = lines[3]?.trim();
  throw new BulwarkError('DATA_DIR_LOCKED', `PostgreSQL is already running in ${dataDir} (pid ${pid}${port ? `, port ${port}` : ''}) and was not started by this bulwark`, {
    hint: `stop it (pg_ctl -D ${dataDir} stop -m fast) and start bulwark again; bulwark runs the PostgreSQL of its members itself`,
    context: { dataDir, postmasterPid: pid },
  });
}

async function isPostgres(pid: number): Promise<boolean> {
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return comm.trim() === 'postgres' || comm.trim() === 'postmaster';
}
