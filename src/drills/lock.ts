/**
 * Never two drills at once, on this data directory: a lock file created
 * exclusively, naming its holder's pid and start time. A holder that died
 * (pid gone, or reused by another process) left a stale lock, which is taken
 * over; the revert journal then says what it left behind.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BulwarkError, errnoCode } from '../core/errors.js';
import { processAlive } from '../core/process.js';
import { processStartTicks, sameProcess } from './proc.js';

export interface LockHolder { pid: number; startTicks: number | undefined; drill: string; since: string }

export class DrillLock {
  private constructor(readonly path: string) {}

  static async acquire(drillsDir: string, drill: string): Promise<DrillLock> {
    const path = join(drillsDir, 'lock');
    const holder: LockHolder = { pid: process.pid, startTicks: await processStartTicks(process.pid), drill, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await create(path, holder)) return new DrillLock(path);
      const current = await readHolder(path);
      if (current && await holderAlive(current)) {
        throw new BulwarkError('DATA_DIR_LOCKED', `drill "${current.drill}" is running (pid ${current.pid}, since ${current.since}); drills run one at a time`, {
          hint: 'wait for it to finish, or stop it: an interrupted drill is reverted at the next start',
        });
      }
      await rm(path, { force: true });
    }
    throw new BulwarkError('DATA_DIR_LOCKED', `could not take the drill lock ${path}`, { hint: 'another drill is starting at the same moment; try again' });
  }

  /** Who holds the lock now, if a live process does (a stale lock counts as free). */
  static async holder(drillsDir: string): Promise<LockHolder | undefined> {
    const current = await readHolder(join(drillsDir, 'lock'));
    return current && await holderAlive(current) ? current : undefined;
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

async function create(path: string, holder: LockHolder): Promise<boolean> {
  try {
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(holder));
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch {
    // Half-written by a holder that died while creating it.
    return undefined;
  }
}

async function holderAlive(holder: LockHolder): Promise<boolean> {
  if (holder.startTicks === undefined) return processAlive(holder.pid);
  return sameProcess(holder.pid, holder.startTicks);
}
