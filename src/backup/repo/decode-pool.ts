import type { Worker } from 'node:worker_threads';
import { BulwarkError } from '../../core/errors.js';
import type { BlobKeys } from './blob-codec.js';
import { DecodeJobs, jobError, type BufferedBlob, type DecodeJob, type JobError, type RestoreBlob, type RestoreResult, type VerifyResult } from './decode-jobs.js';
import { defaultWorkers, startWorker } from './threads.js';
import type { SmallFile, WriteFilesResult } from './write-files.js';

interface Pending { resolve: (value: unknown) => void; reject: (err: Error) => void; bytes: number; slot: Slot }
interface Slot { worker: Worker | undefined; bytes: number }

/** Buffers at least this large move to a worker without a copy. */
const TRANSFER_MIN = 64 * 1024;

/**
 * Worker threads that decode blobs for restore and check --read-data. Workers
 * start on first use; with `workers: 0` every job runs inline on this thread
 * (small jobs, where starting a thread costs more than it saves).
 */
export class DecodePool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private inline: DecodeJobs | undefined;
  private closed = false;

  constructor(private readonly keys: BlobKeys, workers = defaultWorkers()) {
    this.slots = Array.from({ length: Math.max(0, workers) }, () => ({ worker: undefined, bytes: 0 }));
  }

  get size(): number {
    return Math.max(1, this.slots.length);
  }

  /** Starts the workers now, so that their start overlaps with other work rather than delaying the first job. */
  warm(): void {
    for (const slot of this.slots) slot.worker ??= this.start(slot);
  }

  /** Decodes the blobs of `data` (read from a pack) and writes them to `fd` at their positions; resolves to the bytes restored. */
  async restore(data: Buffer, fd: number, blobs: RestoreBlob[]): Promise<number> {
    const result = (await this.run({ type: 'restore', data, fd, blobs })) as RestoreResult;
    return result.bytes;
  }

  /** Decodes the small files of `data` (read from a pack) and writes each whole, with its metadata. */
  async writeFiles(data: Buffer, files: SmallFile[], chown: boolean): Promise<WriteFilesResult> {
    return (await this.run({ type: 'writeFiles', data, files, chown })) as WriteFilesResult;
  }

  /** Authenticates the blobs of `data` (read from a pack); resolves to those that fail. */
  async verify(data: Buffer, blobs: BufferedBlob[]): Promise<VerifyResult> {
    return (await this.run({ type: 'verify', data, blobs })) as VerifyResult;
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  /** Jobs go to the worker with the fewest bytes waiting. */
  private run(job: DecodeJob): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the decode pool is closed'));
    let slot: Slot | undefined;
    for (const other of this.slots) if (!slot || other.bytes < slot.bytes) slot = other;
    if (!slot) {
      this.inline ??= new DecodeJobs(this.keys);
      try {
        return Promise.resolve(this.inline.run(job));
      } catch (err) {
        return Promise.reject(toError(jobError(err)));
      }
    }
    const worker = (slot.worker ??= this.start(slot));
    const id = this.nextId++;
    const data = job.data;
    const bytes = data.byteLength;
    slot.bytes += bytes;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, bytes, slot });
      worker.postMessage({ id, job }, transferable(data) ? [data.buffer as ArrayBuffer] : []);
    });
  }

  private start(slot: Slot): Worker {
    const worker = startWorker(import.meta.url, 'decode-worker', { encryption: this.keys.encryption, mac: this.keys.mac });
    worker.on('message', (message: { id: number; result?: unknown; error?: JobError }) => {
      const pending = this.settle(message.id);
      if (!pending) return;
      if (message.error) pending.reject(toError(message.error));
      else pending.resolve(message.result);
    });
    const lost = (err: Error): void => {
      for (const [id, pending] of this.pending) if (pending.slot === slot) this.settle(id)?.reject(err);
      if (slot.worker === worker) slot.worker = undefined;
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`a decode worker stopped (exit code ${code})`)));
    return worker;
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    pending.slot.bytes -= pending.bytes;
    return pending;
  }
}

/** Only a buffer that owns all of its memory moves; a slice of a shared one (Node's pool) is copied. */
function transferable(data: Uint8Array): boolean {
  return data.byteLength >= TRANSFER_MIN && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
}

function toError(error: JobError): Error {
  if (error.corrupt) return new BulwarkError('REPO_CORRUPT', error.message, { hint: 'run `bulwark backup check --read-data` to list the snapshots and files it affects' });
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}
