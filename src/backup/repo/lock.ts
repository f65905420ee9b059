import { hostname } from 'node:os';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import type { Repository } from './repository.js';
import { sleep } from '../../core/time.js';

export interface LockInfo {
  version: 1;
  hostname: string;
  pid: number;
  exclusive: boolean;
  operation: string;
  time: string;
  /** Refreshed while the owner lives; a lock past this is stale whoever owns it. */
  expires: string;
}

export interface LockOptions {
  exclusive: boolean;
  operation: string;
  leaseMs?: number;
  /** How long to wait for a conflicting lock to go away before giving up. */
  waitMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_LEASE_MS = 120_000;

/**
 * restic-style locks with leases: shared for backup, copy, restore and check;
 * exclusive for the delete phase of prune and for forget. A lock whose owner
 * died on this host, or whose lease ran out, is stale and removed rather than
 * obeyed, so a crashed run never blocks the next scheduled one.
 */
export class RepoLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(private readonly repo: Repository, private name: string, private info: LockInfo, private readonly leaseMs: number) {}

  static async acquire(repo: Repository, options: LockOptions): Promise<RepoLock> {
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
      const info = newInfo(options, leaseMs);
      const name = await repo.saveFile('locks', info, options.signal);
      const conflict = await findConflict(repo, name, options.exclusive, options.signal);
      if (!conflict) {
        const lock = new RepoLock(repo, name, info, leaseMs);
        lock.startRefreshing();
        return lock;
      }
      await repo.backend.remove('locks', name, options.signal);
      if (Date.now() + delay > deadline) {
        throw new BulwarkError('REPO_LOCKED', `${repo.backend.location} is locked by ${conflict.operation} (pid ${conflict.pid} on ${conflict.hostname}, ${conflict.exclusive ? 'exclusive' : 'shared'}, since ${conflict.time})`, {
          hint: 'wait for it to finish (or pass a longer --wait-lock); a lock whose owner died is cleared automatically once its lease expires',
          context: { conflict },
        });
      }
      await sleep(delay);
    }
  }

  get id(): string {
    return this.name;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.repo.backend.remove('locks', this.name).catch(() => undefined);
  }

  private startRefreshing(): void {
    this.timer = setInterval(() => void this.refresh(), Math.max(1_000, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const info = { ...this.info, expires: new Date(Date.now() + this.leaseMs).toISOString() };
    try {
      const name = await this.repo.saveFile('locks', info);
      const old = this.name;
      this.name = name;
      this.info = info;
      await this.repo.backend.remove('locks', old);
      if (this.released) await this.repo.backend.remove('locks', name);
    } catch (err) {
      process.emitWarning(`could not refresh the repository lock: ${errorMessage(err)}`);
    }
  }
}

function newInfo(options: LockOptions, leaseMs: number): LockInfo {
  const now = Date.now();
  return { version: 1, hostname: hostname(), pid: process.pid, exclusive: options.exclusive, operation: options.operation, time: new Date(now).toISOString(), expires: new Date(now + leaseMs).toISOString() };
}

async function findConflict(repo: Repository, own: string, exclusive: boolean, signal?: AbortSignal): Promise<LockInfo | undefined> {
  for (const file of await repo.backend.list('locks', signal)) {
    if (file.name === own) continue;
    const info = await readLock(repo, file.name, signal);
    if (info === undefined) continue;
    if (isStale(info)) {
      await repo.backend.remove('locks', file.name, signal);
      continue;
    }
    if (exclusive || info.exclusive) return info;
  }
  return undefined;
}

async function readLock(repo: Repository, name: string, signal?: AbortSignal): Promise<LockInfo | undefined> {
  try {
    return await repo.loadFile<LockInfo>('locks', name, signal);
  } catch (err) {
    if ((err as BulwarkError).code === 'NOT_FOUND') return undefined; // released meanwhile
    throw err;
  }
}

export function isStale(info: LockInfo, now = Date.now()): boolean {
  if (Date.parse(info.expires) < now) return true;
  if (info.hostname !== hostname()) return false;
  if (info.pid === process.pid) return false;
  try {
    process.kill(info.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export async function withLock<T>(repo: Repository, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await RepoLock.acquire(repo, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Removes locks whose owners are gone; returns how many. */
export async function removeStaleLocks(repo: Repository, signal?: AbortSignal): Promise<number> {
  let removed = 0;
  for (const file of await repo.backend.list('locks', signal)) {
    const info = await readLock(repo, file.name, signal).catch(() => undefined);
    if (info && isStale(info)) {
      await repo.backend.remove('locks', file.name, signal);
      removed++;
    }
  }
  return removed;
}
