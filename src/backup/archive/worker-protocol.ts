import type { CompressionMode } from '../repo/blob-codec.js';
import type { ChunkerParams } from '../chunker/index.js';

export interface ChunkWorkerData {
  encryption: Buffer;
  mac: Buffer;
  chunkerSeed: Buffer;
  chunker: ChunkerParams;
  compression: CompressionMode;
  /** Blobs a worker may send before it waits for the main thread to take them. */
  credits: number;
}

export type ToWorker =
  | { type: 'file'; job: number; path: string }
  | { type: 'known'; ids: string[] }
  | { type: 'credit'; n: number };

export type FromWorker =
  | { type: 'chunk'; job: number; id: string; rawLength: number; sealed?: Uint8Array; compressed: boolean }
  | { type: 'done'; job: number; content: string[]; size: number }
  | { type: 'error'; job: number; message: string; code?: string };
