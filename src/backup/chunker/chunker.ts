import { findBoundary, gearAsInt32, newScanState, scanForCut } from './fastcdc.js';
import { resolveChunkerParams, type ChunkerParams, type ResolvedChunkerParams } from './params.js';

/**
 * Streaming content-defined chunker. Boundaries depend only on the bytes and
 * the gear table, never on how the stream is split into pushes.
 *
 * Memory: a chunk that lies within one pushed buffer is returned as a
 * subarray of it (no copy), so it shares memory with that buffer; a chunk
 * that spans pushes is a fresh copy. The chunker also keeps references to the
 * unfinished tail of pushed buffers until its chunk completes. Callers must
 * therefore not mutate or reuse a pushed buffer while they hold its chunks,
 * nor before the next chunk is returned.
 */
export class Chunker {
  readonly params: ResolvedChunkerParams;
  private readonly gear: Int32Array;
  private readonly state = newScanState();
  /** Pieces of the chunk in progress, from earlier pushes. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Throws BulwarkError USAGE on invalid params; `gear` comes from `gearTable(key)`. */
  constructor(params: Partial<ChunkerParams>, gear: Uint32Array) {
    this.params = resolveChunkerParams(params);
    this.gear = gearAsInt32(gear);
  }

  /** Feeds the next bytes of the stream; returns the chunks completed by them, in order. */
  push(data: Buffer): Buffer[] {
    const chunks: Buffer[] = [];
    let start = 0;
    while (start < data.length) {
      const at = scanForCut(data, start, data.length, this.state, this.params, this.gear);
      if (at < 0) {
        this.pending.push(data.subarray(start));
        this.pendingBytes += data.length - start;
        break;
      }
      chunks.push(this.complete(data.subarray(start, at)));
      start = at;
    }
    return chunks;
  }

  /** Ends the stream: returns the last chunk (shorter than minSize is fine), if any bytes remain. The chunker is then ready for a new stream. */
  finish(): Buffer | undefined {
    const last = this.pendingBytes > 0 ? this.complete(Buffer.alloc(0)) : undefined;
    this.state.length = 0;
    this.state.hash = 0;
    return last;
  }

  private complete(tail: Buffer): Buffer {
    if (this.pending.length === 0) return tail;
    const parts = this.pending;
    if (tail.length > 0) parts.push(tail);
    const chunk = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, this.pendingBytes + tail.length);
    this.pending = [];
    this.pendingBytes = 0;
    return chunk;
  }
}

/** One-shot chunking of a whole buffer; every chunk is a subarray of `data`. */
export function chunkBuffer(data: Buffer, params: Partial<ChunkerParams>, gear: Uint32Array): Buffer[] {
  const p = resolveChunkerParams(params);
  const g = gearAsInt32(gear);
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    const at = findBoundary(data, start, data.length, p, g);
    const end = at < 0 ? data.length : at;
    chunks.push(data.subarray(start, end));
    start = end;
  }
  return chunks;
}
