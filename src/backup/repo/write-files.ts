import { closeSync, constants, fchmodSync, fchownSync, futimesSync, openSync, rmSync, writeSync } from 'node:fs';
import { errorMessage } from '../../core/errors.js';

/**
 * Small files restored whole by a decode worker: their blobs arrive in one
 * buffer read from a pack, and each file is created, written, given its owner,
 * mode and times, and closed with synchronous calls on the worker's own
 * thread. Through libuv's shared threads that would be six round trips per
 * file; here it is none, and many small files restore at the disk's pace.
 */
export interface SmallFile {
  path: string;
  /** Its only blob, in the job's buffer; none for an empty file. */
  blob?: { id: string; offset: number; length: number; rawLength: number; compressed: boolean };
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (atime and mtime). */
  mtime: number;
}

export interface WriteFilesJob { type: 'writeFiles'; data: Uint8Array; files: SmallFile[]; chown: boolean }

export interface WriteFilesResult {
  bytes: number;
  written: number;
  /** Files that could not be written (file system errors), and why. */
  failures: Array<{ path: string; reason: string }>;
}

/** O_NOFOLLOW: a symlink planted at the path is replaced, never written through. */
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Writes one file; `data` is its decoded content. */
export function writeSmallFile(file: SmallFile, data: Buffer, chown: boolean): void {
  const fd = createFresh(file.path);
  try {
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written, written);
    if (chown) {
      try {
        fchownSync(fd, file.uid, file.gid);
      } catch {
        // as restore's applyMetadata: an owner that cannot be set is not a failure
      }
    }
    fchmodSync(fd, file.mode);
    futimesSync(fd, file.mtime, file.mtime);
  } finally {
    closeSync(fd);
  }
}

/** A new file at `path`; whatever was there (file, link, symlink) is removed first, as restore does. */
function createFresh(path: string): number {
  try {
    return openSync(path, CREATE, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  rmSync(path, { force: true });
  return openSync(path, CREATE, 0o600);
}

export function failureOf(file: SmallFile, err: unknown): { path: string; reason: string } {
  return { path: file.path, reason: errorMessage(err) };
}
