import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SealedBlob } from '../repo/pack.js';
import type { ChunkWorkerData, FromWorker, ToWorker } from './worker-protocol.js';

export interface ChunkedFile { content: string[]; size: number }

interface Job {
  resolve: (file: ChunkedFile) => void;
  reject: (err: Error) => void;
  worker: Slot;
  /** Chunks still being added to the writer; `done` waits for them. */
  adding: Promise<unknown>[];
  error?: unknown;
}

interface Slot { worker: Worker; jobs: number }

/** Worker threads that turn files into sealed blobs; `onBlob` must apply back-pressure by resolving late. */
export class ChunkPool {
  private readonly slots: Slot[];
  private readonly jobs = new Map<number, Job>();
  private nextJob = 0;
  private failure: Error | undefined;

  constructor(data: ChunkWorkerData, private readonly onBlob: (blob: SealedBlob) => Promise<unknown>, private readonly onBytes: (n: number) => void, size = availableParallelism()) {
    this.slots = Array.from({ length: Math.max(1, size) }, () => {
      const worker = startWorker(data);
      const slot: Slot = { worker, jobs: 0 };
      worker.on('message', (message: FromWorker) => this.handle(slot, message));
      worker.on('error', (err) => this.fail(err));
      return slot;
    });
  }

  setKnown(ids: string[]): void {
    for (const slot of this.slots) this.send(slot, { type: 'known', ids });
  }

  chunkFile(path: string): Promise<ChunkedFile> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.jobs < a.jobs ? b : a));
    const job = this.nextJob++;
    slot.jobs++;
    return new Promise((resolve, reject) => {
      this.jobs.set(job, { resolve, reject, worker: slot, adding: [] });
      this.send(slot, { type: 'file', job, path });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  private handle(slot: Slot, message: FromWorker): void {
    const job = this.jobs.get(message.job);
    if (!job) return;
    if (message.type === 'chunk') {
      this.onBytes(message.rawLength);
      if (message.sealed === undefined) return;
      const blob: SealedBlob = { id: message.id, type: 'data', rawLength: message.rawLength, compressed: message.compressed, sealed: Buffer.from(message.sealed.buffer, message.sealed.byteOffset, message.sealed.byteLength) };
      const adding = this.onBlob(blob).then(
        () => this.send(slot, { type: 'credit', n: 1 }),
        (err: unknown) => void (job.error ??= err),
      );
      job.adding.push(adding);
      return;
    }
    this.jobs.delete(message.job);
    slot.jobs--;
    if (message.type === 'done') {
      void Promise.all(job.adding).then(() => (job.error ? job.reject(job.error as Error) : job.resolve({ content: message.content, size: message.size })));
    } else {
      job.reject(Object.assign(new Error(message.message), { code: message.code }));
    }
  }

  private send(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
  }
}

/** From TypeScript sources (tests, tsx) the worker registers tsx itself: `--import tsx` does not reach a worker's entry module. */
function startWorker(data: ChunkWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./chunk-worker.js', import.meta.url), { workerData: data });
  const entry = new URL('./chunk-worker.ts', import.meta.url).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: data });
}
