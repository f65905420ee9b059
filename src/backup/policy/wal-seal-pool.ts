import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { BulwarkError } from '../../core/errors.js';
import { SEAL_OVERHEAD } from '../repo/crypto.js';
import { startWorker } from '../repo/threads.js';
import { compressedBound } from './wal-seal.js';

export interface SealJob { id: number; name: string; keys: Uint8Array[]; input: Uint8Array; outputs: Array<Uint8Array | undefined> }
export type SealReply = { id: number; sealed: Array<{ length: number } | { data: Uint8Array }> } | { id: number; error: string };

/**
 * Memory for one WAL file in flight, shared with the workers: the file is
 * read into `input` and sealed into `outputs` (one per key), so no bytes are
 * copied between threads and no buffer is freshly allocated per file (a fresh
 * 16 MiB buffer costs more in page faults than sealing into a warm one).
 */
export class SealBuffers {
  input: Buffer;
  outputs: Buffer[] = [];

  constructor(inputBytes: number) {
    this.input = shared(inputBytes);
  }

  /** Grows the input to hold `bytes` (a WAL segment size other than the usual 16 MiB). */
  ensureInput(bytes: number): void {
    if (this.input.length < bytes) this.input = shared(bytes);
  }

  /** Output buffers for `keys` seals of `inputBytes` of WAL. */
  outputsFor(keys: number, inputBytes: number, nameBytes: number): Buffer[] {
    const need = compressedBound(inputBytes) + SEAL_OVERHEAD + nameBytes + 1;
    for (let i = 0; i < keys; i++) if (!this.outputs[i] || this.outputs[i]!.length < need) this.outputs[i] = shared(need);
    return this.outputs.slice(0, keys);
  }
}

function shared(bytes: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(bytes));
}

interface Pending { resolve: (sealed: Buffer[]) => void; reject: (err: Error) => void; outputs: Buffer[]; slot: Slot }
interface Slot { worker: Worker | undefined; jobs: number }

/**
 * Worker threads that compress and encrypt WAL files for the asynchronous
 * archiver, so that several files are sealed at once on every core while the
 * archiver's own thread only reads, writes and syncs. Size: min(parallel,
 * cores). Workers start on first use; one that dies fails its jobs (the
 * archiver retries them) and is replaced on the next job.
 */
export class WalSealPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;

  constructor(parallel: number, cores = availableParallelism()) {
    this.slots = Array.from({ length: Math.max(1, Math.min(parallel, cores)) }, () => ({ worker: undefined, jobs: 0 }));
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * Compresses `input` once and seals it for each key; resolves to one sealed
   * buffer per key, a view of the matching `outputs` buffer when it was large enough.
   */
  seal(name: string, keys: Buffer[], input: Buffer, outputs: Buffer[]): Promise<Buffer[]> {
    if (this.closed) return Promise.reject(new BulwarkError('INTERNAL', 'the WAL sealing pool is closed'));
    let slot = this.slots[0]!;
    for (const other of this.slots) if (other.jobs < slot.jobs) slot = other;
    const worker = (slot.worker ??= this.start(slot));
    const id = this.nextId++;
    slot.jobs++;
    const job: SealJob = { id, name, keys, input, outputs };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, outputs, slot });
      worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private start(slot: Slot): Worker {
    const worker = startWorker(import.meta.url, 'wal-seal-worker', undefined);
    worker.on('message', (reply: SealReply) => {
      const pending = this.settle(reply.id);
      if (!pending) return;
      if ('error' in reply) pending.reject(new BulwarkError('INTERNAL', `sealing a WAL file failed: ${reply.error}`));
      else pending.resolve(reply.sealed.map((s, i) => ('length' in s ? pending.outputs[i]!.subarray(0, s.length) : Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength))));
    });
    const lost = (err: Error): void => {
      for (const [id, pending] of this.pending) if (pending.slot === slot) this.settle(id)?.reject(err);
      if (slot.worker === worker) slot.worker = undefined;
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new BulwarkError('INTERNAL', `a WAL sealing worker stopped (exit code ${code})`)));
    return worker;
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    this.pending.delete(id);
    pending.slot.jobs--;
    return pending;
  }
}
