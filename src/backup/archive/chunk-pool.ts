import type { Worker } from 'node:worker_threads';
import { resolveChunkerParams } from '../chunker/index.js';
import { SEAL_OVERHEAD } from '../repo/crypto.js';
import type { SealedBlob } from '../repo/pack.js';
import { defaultWorkers, startWorker } from '../repo/threads.js';
import type { ChunkWorkerData, FromWorker, ToWorker } from './worker-protocol.js';

export interface ChunkedFile { content: string[]; size: number }

interface Job {
  path: string;
  /** Expected size (from lstat), to schedule big files first and keep workers evenly busy. */
  size: number;
  resolve: (file: ChunkedFile) => void;
  reject: (err: Error) => void;
  /** Chunks still being added to the writer; `done` waits for them. */
  adding: Promise<unknown>[];
  error?: unknown;
}

interface Slot {
  worker: Worker;
  jobs: number;
  bytes: number;
  outbox: Buffer;
  /** Blobs of the outbox not yet released, in the order the worker wrote them. */
  unreleased: Array<{ end: number; done: boolean }>;
}

/** Outbox room beyond the largest sealed blob: several average chunks, so a worker rarely waits. */
const OUTBOX_SLACK = 1024 * 1024;

/**
 * A worker that is on small files may take more before it is done (it reads
 * them ahead, see SMALL_FILE_BYTES); one on a big file may not.
 */
const SMALL_BACKLOG = 1024 * 1024;
/** Small files a worker holds at once: enough reads in flight to keep libuv's threads busy. */
const MAX_JOBS_PER_WORKER = 16;

/**
 * Worker threads that turn files into sealed blobs; `onBlob` must apply
 * back-pressure by resolving late. Workers start when the first file needs
 * one (a backup where nothing changed starts none), and take files as they
 * become free, biggest first among those waiting, so that no worker sits
 * idle while another works through a backlog.
 */
export class ChunkPool {
  private readonly slots: Slot[] = [];
  private readonly jobs = new Map<number, Job>();
  private readonly waiting: number[] = [];
  private nextJob = 0;
  private failure: Error | undefined;
  private known: (() => string[]) | undefined;
  private readonly size: number;
  private closing = false;

  constructor(private readonly data: Omit<ChunkWorkerData, 'outbox'>, private readonly onBlob: (blob: SealedBlob) => Promise<unknown>, private readonly onBytes: (n: number) => void, size = defaultWorkers()) {
    this.size = Math.max(1, size);
  }

  /** Blob ids the repository already holds, asked for only if a worker starts: workers do not encrypt those again. */
  setKnown(ids: string[] | (() => string[])): void {
    this.known = typeof ids === 'function' ? ids : () => ids;
  }

  chunkFile(path: string, size = 0): Promise<ChunkedFile> {
    if (this.failure) return Promise.reject(this.failure);
    const job = this.nextJob++;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { path, size, resolve, reject, adding: [] });
      this.waiting.push(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      const slot = this.freeSlot();
      if (!slot) return;
      let best = 0;
      for (let i = 1; i < this.waiting.length; i++) if (this.jobs.get(this.waiting[i]!)!.size > this.jobs.get(this.waiting[best]!)!.size) best = i;
      const id = this.waiting.splice(best, 1)[0]!;
      const job = this.jobs.get(id)!;
      slot.jobs++;
      slot.bytes += job.size;
      this.send(slot, { type: 'file', job: id, path: job.path, size: job.size });
    }
  }

  private freeSlot(): Slot | undefined {
    const idle = this.slots.find((s) => s.jobs === 0);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.start();
    const light = this.slots.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    return light.jobs < MAX_JOBS_PER_WORKER && light.bytes < SMALL_BACKLOG ? light : undefined;
  }

  private start(): Slot {
    const outbox = new SharedArrayBuffer(resolveChunkerParams(this.data.chunker).maxSize + SEAL_OVERHEAD + OUTBOX_SLACK);
    const worker = startWorker(import.meta.url, 'chunk-worker', { ...this.data, outbox } satisfies ChunkWorkerData);
    const slot: Slot = { worker, jobs: 0, bytes: 0, outbox: Buffer.from(outbox), unreleased: [] };
    worker.on('message', (message: FromWorker) => this.handle(slot, message));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`a chunk worker stopped (exit code ${code})`));
    });
    this.slots.push(slot);
    const known = this.known?.();
    if (known && known.length > 0) this.send(slot, { type: 'known', ids: known });
    return slot;
  }

  private handle(slot: Slot, message: FromWorker): void {
    const job = this.jobs.get(message.job);
    if (!job) return;
    if (message.type === 'chunk') {
      this.onBytes(message.rawLength);
      const sealed = message.sealed;
      if (sealed === undefined) return;
      // The writer copies the blob into a pack before `add` resolves; only then may the worker reuse its room.
      const entry = { end: sealed.end, done: false };
      slot.unreleased.push(entry);
      const blob: SealedBlob = { id: message.id, type: 'data', rawLength: message.rawLength, compressed: message.compressed, sealed: slot.outbox.subarray(sealed.at, sealed.at + sealed.length) };
      const adding = this.onBlob(blob).then(
        () => this.release(slot, entry),
        (err: unknown) => {
          job.error ??= err;
          this.release(slot, entry); // the worker goes on to the end of the file, which then fails
        },
      );
      job.adding.push(adding);
      return;
    }
    this.jobs.delete(message.job);
    slot.jobs--;
    slot.bytes -= job.size;
    this.dispatch();
    if (message.type === 'done') {
      void Promise.all(job.adding).then(() => (job.error ? job.reject(job.error as Error) : job.resolve({ content: message.content, size: message.size })));
    } else {
      job.reject(Object.assign(new Error(message.message), { code: message.code }));
    }
  }

  private release(slot: Slot, entry: { end: number; done: boolean }): void {
    entry.done = true;
    let upTo: number | undefined;
    while (slot.unreleased[0]?.done) upTo = slot.unreleased.shift()!.end;
    if (upTo !== undefined) this.send(slot, { type: 'release', upTo });
  }

  private send(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    this.waiting.length = 0;
  }
}
