import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BulwarkError, errnoCode } from '../../core/errors.js';
import { diskFull, isAbortError, notFound, unavailable } from './errors.js';
import { KIND_DIRS, TEMP_PREFIX, checkKind, checkName, checkRange, isValidName, layoutPath, tempName } from './names.js';
import { type Backend, type ByteRange, type FileInfo, type FileKind } from './types.js';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * A repository in a local (or mounted) folder: `config`, `keys/`, `data/<2 chars>/`,
 * `index/`, `snapshots/`, `locks/`, `wal/`. Writes go to `.tmp-<random>` in the
 * target folder, are fsynced, renamed into place, and the folder is fsynced.
 */
export class LocalBackend implements Backend {
  readonly dir: string;
  readonly location: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
    this.location = `local:${this.dir}`;
  }

  async create(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    try {
      await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
      for (const kind of KIND_DIRS) await mkdir(join(this.dir, kind), { recursive: true, mode: DIR_MODE });
    } catch (err) {
      throw this.fsError(err, this.dir);
    }
  }

  async stat(kind: FileKind, name: string, signal?: AbortSignal): Promise<FileInfo | undefined> {
    const path = this.pathOf(kind, name);
    signal?.throwIfAborted();
    try {
      const info = await stat(path);
      return info.isFile() ? { kind, name, size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.fsError(err, path);
    }
  }

  async read(kind: FileKind, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    const path = this.pathOf(kind, name);
    checkRange(range);
    signal?.throwIfAborted();
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'r');
      return range ? await readAt(handle, range) : await handle.readFile({ signal });
    } catch (err) {
      if (isMissing(err)) throw notFound(this.location, kind, name, err);
      throw this.fsError(err, path);
    } finally {
      await handle?.close();
    }
  }

  async write(kind: FileKind, name: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    const target = this.pathOf(kind, name);
    signal?.throwIfAborted();
    const dir = dirname(target);
    const temp = join(dir, tempName(randomBytes(8).toString('hex')));
    try {
      await this.writeTemp(kind, temp, data, signal);
      signal?.throwIfAborted();
      await rename(temp, target);
      await fsyncDir(dir);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.fsError(err, target);
    }
  }

  async remove(kind: FileKind, name: string, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(kind, name);
    signal?.throwIfAborted();
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw this.fsError(err, path);
    }
  }

  async list(kind: FileKind, signal?: AbortSignal): Promise<FileInfo[]> {
    checkKind(kind);
    if (kind === 'config') {
      const info = await this.stat('config', 'config', signal);
      return info ? [info] : [];
    }
    const out: FileInfo[] = [];
    for (const dir of await this.folders(kind)) {
      signal?.throwIfAborted();
      const names = (await this.entries(dir)).filter((e) => e.isFile() && isValidName(e.name)).map((e) => e.name);
      const infos = await Promise.all(names.map((name) => this.stat(kind, name)));
      for (const info of infos) if (info) out.push(info);
    }
    return out;
  }

  async close(): Promise<void> {}

  /**
   * Deletes `.tmp-*` files left by writers that crashed, if older than
   * `olderThanMs` (younger ones may belong to a write in progress). Returns how many.
   */
  async removeStaleTempFiles(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const folders = [this.dir, ...(await Promise.all(KIND_DIRS.map((kind) => this.folders(kind)))).flat()];
    let removed = 0;
    for (const dir of folders) {
      for (const entry of await this.entries(dir)) {
        if (!entry.isFile() || !entry.name.startsWith(TEMP_PREFIX)) continue;
        const path = join(dir, entry.name);
        const info = await stat(path).catch(() => undefined);
        if (info && info.mtimeMs < cutoff) {
          await rm(path, { force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  private pathOf(kind: FileKind, name: string): string {
    checkName(kind, name);
    return join(this.dir, ...layoutPath(kind, name));
  }

  /** The folders holding files of `kind`: the kind folder, or every data shard. */
  private async folders(kind: FileKind): Promise<string[]> {
    const base = join(this.dir, kind);
    if (kind !== 'data') return [base];
    const shards = (await this.entries(base)).filter((e) => e.isDirectory() && isValidName(e.name));
    return shards.map((e) => join(base, e.name));
  }

  private async entries(dir: string): Promise<Dirent[]> {
    try {
      return await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return [];
      throw this.fsError(err, dir);
    }
  }

  private async writeTemp(kind: FileKind, temp: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    try {
      await writeSynced(temp, data, signal);
    } catch (err) {
      if (kind !== 'data' || errnoCode(err) !== 'ENOENT') throw err;
      // First file of this shard. Not recursive: a missing data/ means the repository was never created.
      await mkdir(dirname(temp), { mode: DIR_MODE }).catch((e: unknown) => {
        if (errnoCode(e) !== 'EEXIST') throw e;
      });
      await writeSynced(temp, data, signal);
    }
  }

  private fsError(err: unknown, path: string): Error {
    if (err instanceof BulwarkError || isAbortError(err)) return err as Error;
    const code = errnoCode(err);
    const reason = err instanceof Error ? err.message : String(err);
    switch (code) {
      case 'ENOSPC':
      case 'EDQUOT':
        return diskFull(this.location, err);
      case 'ENOENT':
        return new BulwarkError('NOT_FOUND', `${path} does not exist`, {
          hint: `check the repository path, or create the repository at ${this.dir} first`,
          cause: err,
        });
      case 'EACCES':
      case 'EPERM':
        return unavailable(`permission denied on ${path} (running as uid ${process.getuid?.() ?? '?'})`, `make ${this.dir} readable and writable by this user, or run as its owner`, {
          cause: err,
          transient: false,
        });
      case 'EROFS':
        return unavailable(`${path} is on a read-only file system`, 'remount it read-write or use another repository location', { cause: err, transient: false });
      default:
        return unavailable(`cannot use ${path}: ${reason}`, `check that ${this.dir} is mounted and healthy`, {
          cause: err,
          transient: code === 'EIO' || code === 'ESTALE' || code === 'EAGAIN' || code === 'EBUSY' || code === 'EINTR',
        });
    }
  }
}

function isMissing(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function writeSynced(path: string, data: Buffer, signal?: AbortSignal): Promise<void> {
  const handle = await open(path, 'wx', FILE_MODE);
  try {
    // One write call for the whole buffer: FileHandle.writeFile goes in 512 KiB steps, one event-loop turn each.
    for (let offset = 0; offset < data.length;) {
      signal?.throwIfAborted();
      offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads only the requested bytes (clamped to the file's end): range reads never load the whole file. */
async function readAt(handle: FileHandle, range: ByteRange): Promise<Buffer> {
  const { size } = await handle.stat();
  const length = Math.max(0, Math.min(range.length, size - range.offset));
  // Never pooled (a worker may take it over without a copy), never zero-filled (the read fills it).
  const buffer = Buffer.allocUnsafeSlow(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, range.offset + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
