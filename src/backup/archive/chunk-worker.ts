import { createCipheriv, randomBytes } from 'node:crypto';
import { close, closeSync, open, openSync, read } from 'node:fs';
import { promisify } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { gearAsInt32, gearTable, newScanState, resolveChunkerParams, scanForCut } from '../chunker/index.js';
import { compressIfWorthIt } from '../repo/blob-codec.js';
import { blobId, NONCE_BYTES, SEAL_OVERHEAD } from '../repo/crypto.js';
import { collectEvery } from '../repo/worker-gc.js';
import { SMALL_FILE_BYTES, type ChunkWorkerData, type FromWorker, type ToWorker } from './worker-protocol.js';

/**
 * Reads, chunks, hashes, compresses and encrypts one file at a time. The main
 * thread only deduplicates across workers and assembles packs, so the CPU work
 * spreads over every core.
 *
 * Reading: two reusable windows. While the chunks of one are processed, the
 * next read goes into the other; the unfinished chunk at the end of a window
 * is copied in front of the next window's data, so every chunk is contiguous
 * and the only copy is of those tails. Chunk boundaries are those of Chunker
 * (same scan, same state), whatever the read sizes.
 */
const data = workerData as ChunkWorkerData;
const port = parentPort!;
const params = resolveChunkerParams(data.chunker);
const gear = gearAsInt32(gearTable(Buffer.from(data.chunkerSeed)));
const encryption = Buffer.from(data.encryption);
const mac = Buffer.from(data.mac);
const known = new Set<string>();
const READ_BYTES = 2 * 1024 * 1024;
const allocated = collectEvery(4 * 1024 * 1024);
/** Room before the data for the tail carried over from the other window: a tail is shorter than maxSize. */
const CARRY_ROOM = params.maxSize;
const windows = Array.from({ length: 2 }, () => Buffer.allocUnsafeSlow(CARRY_ROOM + READ_BYTES));
const openFile = promisify(open);
const closeFile = promisify(close);
const outbox = Buffer.from(data.outbox);
/** Outbox bytes used and released so far (running counts; positions are modulo its size). */
let used = 0;
let released = 0;
let wakeUp: (() => void) | undefined;
/** A small file's whole content (already being read), or undefined when it must be streamed. */
type Prefetch = Promise<Buffer | undefined>;
const queue: Array<{ job: number; path: string; prefetch?: Prefetch }> = [];
let busy = false;

port.on('message', (message: ToWorker) => {
  if (message.type === 'release') {
    released = message.upTo;
    wakeUp?.();
  } else if (message.type === 'known') {
    for (const id of message.ids) known.add(id);
  } else {
    const prefetch = message.size <= SMALL_FILE_BYTES ? readSmall(message.path, message.size) : undefined;
    // A failed read is reported in order, when drain gets to the file.
    prefetch?.catch(() => undefined);
    queue.push({ job: message.job, path: message.path, prefetch });
    if (!busy) void drain();
  }
});

async function drain(): Promise<void> {
  busy = true;
  while (queue.length > 0) {
    const next = queue.shift()!;
    try {
      const whole = await next.prefetch;
      if (whole) await chunkWhole(next.job, whole);
      else await chunkFile(next.job, next.path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      post({ type: 'error', job: next.job, message: e.message, code: e.code });
    }
  }
  busy = false;
}

function readInto(fd: number, window: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, window, CARRY_ROOM, READ_BYTES, position, (err, n) => (err ? reject(err) : resolve(n))));
}

interface Read { window: number; position: number; done: Promise<number> }

const readFd = promisify(read);

/**
 * open, one read of one byte more than lstat said, close. A short read of a
 * regular file is its end; a file that grew past what lstat saw is streamed.
 * Only the read goes through libuv's threads: the main thread's lstat has
 * just brought the inode into memory, so open and close do not wait on the
 * disk, and a round trip through the shared threads costs more than they do.
 */
async function readSmall(path: string, size: number): Prefetch {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size + 1);
    const { bytesRead } = await readFd(fd, buffer, 0, buffer.length, 0);
    return bytesRead <= size ? buffer.subarray(0, bytesRead) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** The chunks of a file read whole: the same cuts as chunkFile's windows make. */
async function chunkWhole(job: number, data: Buffer): Promise<void> {
  const content: string[] = [];
  const state = newScanState();
  let start = 0;
  for (;;) {
    const cut = scanForCut(data, start, data.length, state, params, gear);
    if (cut < 0) break;
    await emit(job, data.subarray(start, cut), content);
    start = cut;
  }
  if (start < data.length) await emit(job, data.subarray(start), content);
  post({ type: 'done', job, content, size: data.length });
}

async function chunkFile(job: number, path: string): Promise<void> {
  const fd = await openFile(path, 'r');
  const content: string[] = [];
  const state = newScanState();
  const reads: Read[] = [];
  let position = 0;
  let slot = 0;
  // Reads run ahead into every window but the one being chunked. They assume full reads; a short one restarts them.
  const readAhead = (): void => {
    while (reads.length < windows.length - 1) {
      reads.push({ window: slot, position, done: readInto(fd, windows[slot]!, position) });
      position += READ_BYTES;
      slot = (slot + 1) % windows.length;
    }
  };
  const settle = async (): Promise<void> => {
    for (const r of reads.splice(0)) await r.done.catch(() => 0);
  };
  let size = 0;
  try {
    readAhead();
    // The unfinished chunk: carryLength bytes ending at carryEnd in the window chunked last.
    let carry: Buffer | undefined;
    let carryEnd = 0;
    let carryLength = 0;
    for (;;) {
      const next = reads.shift()!;
      const n = await next.done;
      const window = windows[next.window]!;
      if (n === 0) {
        if (carry && carryLength > 0) await emit(job, carry.subarray(carryEnd - carryLength, carryEnd), content);
        break;
      }
      size += n;
      if (carry && carryLength > 0) carry.copy(window, CARRY_ROOM - carryLength, carryEnd - carryLength, carryEnd);
      if (n < READ_BYTES) {
        await settle();
        position = next.position + n;
        slot = (next.window + 1) % windows.length;
      }
      readAhead();
      const end = CARRY_ROOM + n;
      let start = CARRY_ROOM - carryLength;
      for (let at = CARRY_ROOM; ;) {
        const cut = scanForCut(window, at, end, state, params, gear);
        if (cut < 0) break;
        await emit(job, window.subarray(start, cut), content);
        start = at = cut;
      }
      carry = window;
      carryEnd = end;
      carryLength = end - start;
    }
  } finally {
    await settle();
    await closeFile(fd);
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
  const compressed = compressIfWorthIt(chunk, data.compression);
  const plain = compressed ?? chunk;
  const length = plain.length + SEAL_OVERHEAD;
  const at = await reserve(length);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', encryption, nonce);
  nonce.copy(outbox, at);
  let end = at + NONCE_BYTES + cipher.update(plain).copy(outbox, at + NONCE_BYTES);
  end += cipher.final().copy(outbox, end);
  cipher.getAuthTag().copy(outbox, end);
  post({ type: 'chunk', job, id, rawLength: chunk.length, compressed: compressed !== undefined, sealed: { at, length, end: used } });
  allocated(length + (compressed ? chunk.length : 0));
}

/** Room for `length` bytes in the outbox, contiguous (a tail too short is skipped); waits for the main thread to release enough. */
async function reserve(length: number): Promise<number> {
  if (length > outbox.length) throw new Error(`a sealed blob of ${length} bytes does not fit the ${outbox.length}-byte outbox`);
  for (;;) {
    const position = used % outbox.length;
    const skip = position + length > outbox.length ? outbox.length - position : 0;
    if (used + skip + length - released <= outbox.length) {
      used += skip + length;
      return skip > 0 ? 0 : position;
    }
    await new Promise<void>((resolve) => (wakeUp = resolve));
  }
}

function post(message: FromWorker): void {
  port.postMessage(message);
}
