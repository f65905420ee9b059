import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Chunker, gearTable } from '../chunker/index.js';
import { compressIfWorthIt } from '../repo/blob-codec.js';
import { blobId, seal } from '../repo/crypto.js';
import type { ChunkWorkerData, FromWorker, ToWorker } from './worker-protocol.js';

/**
 * Reads, chunks, hashes, compresses and encrypts one file at a time. The main
 * thread only deduplicates across workers and assembles packs, so the CPU work
 * spreads over every core.
 */
const data = workerData as ChunkWorkerData;
const port = parentPort!;
const gear = gearTable(Buffer.from(data.chunkerSeed));
const encryption = Buffer.from(data.encryption);
const mac = Buffer.from(data.mac);
const known = new Set<string>();
const READ_BYTES = 8 * 1024 * 1024;
let credits = data.credits;
let wakeUp: (() => void) | undefined;
const queue: Array<{ job: number; path: string }> = [];
let busy = false;

port.on('message', (message: ToWorker) => {
  if (message.type === 'credit') {
    credits += message.n;
    wakeUp?.();
  } else if (message.type === 'known') {
    for (const id of message.ids) known.add(id);
  } else {
    queue.push(message);
    if (!busy) void drain();
  }
});

async function drain(): Promise<void> {
  busy = true;
  while (queue.length > 0) {
    const next = queue.shift()!;
    try {
      await chunkFile(next.job, next.path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      post({ type: 'error', job: next.job, message: e.message, code: e.code });
    }
  }
  busy = false;
}

async function chunkFile(job: number, path: string): Promise<void> {
  const fd = openSync(path, 'r');
  const chunker = new Chunker(data.chunker, gear);
  const content: string[] = [];
  let size = 0;
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      const n = readSync(fd, buffer, 0, READ_BYTES, null);
      if (n === 0) break;
      size += n;
      for (const chunk of chunker.push(buffer.subarray(0, n))) await emit(job, chunk, content);
    }
    const last = chunker.finish();
    if (last && last.length > 0) await emit(job, last, content);
  } finally {
    closeSync(fd);
  }
  post({ type: 'done', job, content, size });
}

async function emit(job: number, chunk: Buffer, content: string[]): Promise<void> {
  const id = blobId(mac, chunk).toString('hex');
  content.push(id);
  if (known.has(id)) {
    post({ type: 'chunk', job, id, rawLength: chunk.length, compressed: false });
    return;
  }
  known.add(id);
  while (credits <= 0) await new Promise<void>((resolve) => (wakeUp = resolve));
  credits--;
  const compressed = compressIfWorthIt(chunk, data.compression);
  const sealed = seal(encryption, compressed ?? chunk);
  const owned = sealed.byteOffset === 0 && sealed.byteLength === sealed.buffer.byteLength ? sealed : Buffer.from(sealed);
  post({ type: 'chunk', job, id, rawLength: chunk.length, compressed: compressed !== undefined, sealed: owned }, [owned.buffer as ArrayBuffer]);
}

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}
