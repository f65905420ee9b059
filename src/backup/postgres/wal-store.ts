import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BulwarkError, errnoCode } from '../../core/errors.js';
import { isWalFileName } from './wal-names.js';

/** Where archived WAL files live, by their PostgreSQL file name. */
export interface WalStore {
  /** Idempotent and atomic: a reader sees the whole file or nothing. */
  put(name: string, data: Buffer, signal?: AbortSignal): Promise<void>;
  /** Undefined when missing. */
  get(name: string, signal?: AbortSignal): Promise<Buffer | undefined>;
  list(signal?: AbortSignal): Promise<string[]>;
}

/** A store that can also forget files, for pruning. Removing a missing file is not an error. */
export interface PrunableWalStore extends WalStore {
  remove(name: string, signal?: AbortSignal): Promise<void>;
}

export function checkWalFileName(name: string): void {
  if (!isWalFileName(name)) {
    throw new BulwarkError('USAGE', `"${name}" is not the name of a WAL segment, backup history or timeline history file`, {
      hint: 'pass the file PostgreSQL names in %p/%f (e.g. 000000010000000000000003 or 00000002.history)',
    });
  }
}

/** WAL files as plain files in one folder; writes go through a fsynced temp file and a rename. */
export class DirectoryWalStore implements PrunableWalStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async put(name: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    checkWalFileName(name);
    signal?.throwIfAborted();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      signal?.throwIfAborted();
      await rename(temp, join(this.dir, name));
      await syncDir(this.dir);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async get(name: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    checkWalFileName(name);
    try {
      return await readFile(join(this.dir, name), { signal });
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async list(signal?: AbortSignal): Promise<string[]> {
    signal?.throwIfAborted();
    try {
      return (await readdir(this.dir)).filter(isWalFileName).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    checkWalFileName(name);
    signal?.throwIfAborted();
    await rm(join(this.dir, name), { force: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
