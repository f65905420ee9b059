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
  | { type: 'file'; job: number; path: string }
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
