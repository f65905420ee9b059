import type { Worker } from 'node:worker_threads';
import { BulwarkError } from '../../core/errors.js';
import type { BlobKeys } from './blob-codec.js';
import { DecodeJobs, jobError, type BufferedBlob, type DecodeJob, type JobError, type RestoreBlob, type RestoreResult, type VerifyResult } from './decode-jobs.js';
import { defaultWorkers, startWorker } from './threads.js';

interface Pending { resolve: (value: unknown) => void; reject: (err: Error) => void; bytes: number; slot: Slot }
interface Slot { worker: Worker | undefined; bytes: number; jobs: number }

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
    this.slots = Array.from({ length: Math.max(0, workers) }, () => ({ worker: undefined, bytes: 0, jobs: 0 }));
  }

  get size(): number {
    return Math.max(1, this.slots.length);
  }

  /** The least busy worker; verify jobs of one pack must all go to the same one. */
  pick(): number {
    let best = 0;
    for (let i = 1; i < this.slots.length; i++) if (this.slots[i]!.bytes < this.slots[best]!.bytes) best = i;
    return best;
  }

  /** Decodes the blobs of `data` (read from a pack) and writes them to `fd` at their positions; resolves to the bytes restored. */
  async restore(data: Buffer, fd: number, blobs: RestoreBlob[], slot = this.pick()): Promise<number> {
    const result = (await this.run(slot, { type: 'restore', data, fd, blobs })) as RestoreResult;
    return result.bytes;
  }

  /** Verifies one piece of a pack: see VerifyJob. */
  async verify(slot: number, pack: string, data: Buffer, blobs: BufferedBlob[], last: boolean): Promise<VerifyResult> {
    return (await this.run(slot, { type: 'verify', pack, data, blobs, last })) as VerifyResult;
  }

  /** Drops what a worker keeps of a pack whose verification stopped half-way. */
  forget(slot: number, pack: string): void {
    void this.run(slot, { type: 'forget', pack }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private run(index: number, job: DecodeJob): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the decode pool is closed'));
    const slot = this.slots[index];
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
    const data = 'data' in job ? job.data : undefined;
    const bytes = data?.byteLength ?? 0;
    slot.bytes += bytes;
    slot.jobs++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, bytes, slot });
      worker.postMessage({ id, job }, data && transferable(data) ? [data.buffer as ArrayBuffer] : []);
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
    pending.slot.jobs--;
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
