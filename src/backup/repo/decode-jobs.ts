import { writeSync } from 'node:fs';
import { errorMessage } from '../../core/errors.js';
import { decodeBlob, type BlobKeys, type Scratch } from './blob-codec.js';
import { failureOf, writeSmallFile, type WriteFilesJob, type WriteFilesResult } from './write-files.js';

/**
 * The CPU-heavy half of restore and check --read-data, run in decode workers
 * (or inline for small jobs): decrypt, decompress, check content addresses,
 * write restored bytes. The main thread reads and plans.
 */

/** A blob inside a buffer that was read from a pack: `offset` is relative to that buffer. */
export interface BufferedBlob { id: string; offset: number; length: number; rawLength: number; compressed: boolean }

/** Where a decoded blob goes in the file being restored. */
export interface RestoreBlob extends BufferedBlob { position: number }

export interface RestoreJob { type: 'restore'; data: Uint8Array; fd: number; blobs: RestoreBlob[] }

/** Blobs of a piece of a pack, to authenticate (check --read-data). */
export interface VerifyJob { type: 'verify'; data: Uint8Array; blobs: BufferedBlob[] }

export type DecodeJob = RestoreJob | VerifyJob | WriteFilesJob;

export interface RestoreResult { bytes: number }
export interface VerifyResult {
  /** Blobs that do not decode, and why. */
  failures: Array<{ id: string; message: string }>;
}

/** A failure the caller reports as repository damage rather than a file system error. */
export interface JobError { message: string; code?: string; corrupt: boolean }

export class DecodeJobs {
  /** Blobs are decrypted into this, then written or dropped before the next one. */
  private readonly scratch: Scratch = { buffer: Buffer.alloc(0) };

  constructor(private readonly keys: BlobKeys) {}

  run(job: DecodeJob): RestoreResult | VerifyResult | WriteFilesResult {
    if (job.type === 'writeFiles') return this.writeFiles(job);
    return job.type === 'restore' ? this.restore(job) : this.verify(job);
  }

  /** Damage to the repository fails the job; a file that cannot be written fails only itself. */
  private writeFiles(job: WriteFilesJob): WriteFilesResult {
    const buffer = asBuffer(job.data);
    const result: WriteFilesResult = { bytes: 0, written: 0, failures: [] };
    for (const file of job.files) {
      const data = file.blob ? this.decodeChecked(buffer, file.blob) : EMPTY;
      try {
        writeSmallFile(file, data, job.chown);
        result.bytes += data.length;
        result.written++;
      } catch (err) {
        result.failures.push(failureOf(file, err));
      }
    }
    return result;
  }

  private decodeChecked(buffer: Buffer, blob: BufferedBlob): Buffer {
    let data: Buffer;
    try {
      data = decodeBlob(this.keys, blob.id, buffer.subarray(blob.offset, blob.offset + blob.length), blob.compressed, blob.rawLength, this.scratch);
    } catch (err) {
      throw corrupt(errorMessage(err));
    }
    if (data.length !== blob.rawLength) throw corrupt(`blob ${blob.id.slice(0, 12)} holds ${data.length} bytes, its index entry says ${blob.rawLength}`);
    return data;
  }

  private restore(job: RestoreJob): RestoreResult {
    const buffer = asBuffer(job.data);
    let bytes = 0;
    for (const blob of job.blobs) {
      const data = this.decodeChecked(buffer, blob);
      // All-zero chunks become holes: sparse files stay sparse.
      if (!isZero(data)) writeAll(job.fd, data, blob.position);
      bytes += data.length;
    }
    return { bytes };
  }

  private verify(job: VerifyJob): VerifyResult {
    const buffer = asBuffer(job.data);
    const failures: VerifyResult['failures'] = [];
    for (const blob of job.blobs) {
      try {
        decodeBlob(this.keys, blob.id, buffer.subarray(blob.offset, blob.offset + blob.length), blob.compressed, blob.rawLength, this.scratch);
      } catch (err) {
        failures.push({ id: blob.id, message: errorMessage(err) });
      }
    }
    return { failures };
  }
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function corrupt(message: string): Error & { jobError: JobError } {
  return Object.assign(new Error(message), { jobError: { message, corrupt: true } });
}

function writeAll(fd: number, data: Buffer, position: number): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written, position + written);
}

const ZERO = Buffer.alloc(64 * 1024);
const EMPTY = Buffer.alloc(0);

export function isZero(data: Buffer): boolean {
  // Random data differs within its first bytes: the common case costs nothing.
  if (data.length === 0 || data[0] !== 0 || data[data.length - 1] !== 0) return data.length === 0;
  for (let at = 0; at < data.length; at += ZERO.length) {
    const part = data.subarray(at, at + ZERO.length);
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
}

/** What a job that failed reports: repository damage, or the error of a write. */
export function jobError(err: unknown): JobError {
  const known = (err as { jobError?: JobError }).jobError;
  if (known) return known;
  const code = (err as NodeJS.ErrnoException).code;
  return { message: errorMessage(err), corrupt: false, ...(typeof code === 'string' ? { code } : {}) };
}
