import type { CompressionMode } from '../repo/blob-codec.js';
import type { ChunkerParams } from '../chunker/index.js';

export interface ChunkWorkerData {
  encryption: Buffer;
  mac: Buffer;
  chunkerSeed: Buffer;
  chunker: ChunkerParams;
  compression: CompressionMode;
  /**
   * The worker's outbox, shared with the main thread: sealed blobs are written
   * into it as a ring and the main thread copies them into packs from there,
   * so no buffer changes threads and the main thread allocates nothing per blob.
   * Its size bounds what a worker has sealed but the main thread not yet taken.
   */
  outbox: SharedArrayBuffer;
}

export type ToWorker =
  /** `size` is the size lstat saw: a file up to SMALL_FILE_BYTES of it is read whole as soon as it arrives. */
  | { type: 'file'; job: number; path: string; size: number }
  | { type: 'known'; ids: string[] }
  /** The main thread is done with the outbox up to this position (a running count, see `end`). */
  | { type: 'release'; upTo: number };

export type FromWorker =
  /**
   * A chunk of the file. A new one comes sealed, at outbox[at, at + length);
   * `end` counts every outbox byte used so far, this blob and any skipped tail
   * of the ring included: releasing up to `end` frees the blob.
   */
  | { type: 'chunk'; job: number; id: string; rawLength: number; compressed: boolean; sealed?: { at: number; length: number; end: number } }
  | { type: 'done'; job: number; content: string[]; size: number }
  | { type: 'error'; job: number; message: string; code?: string };

/**
 * Files up to this size are read in one read, started when the file reaches
 * its worker rather than when the worker gets to it: many small files keep
 * several reads in flight, where one at a time would leave the disk waiting.
 */
export const SMALL_FILE_BYTES = 256 * 1024;
