import type { ResolvedChunkerParams } from './params.js';

/**
 * FastCDC cut-point search (Xia et al., 2016/2020) with normalized chunking,
 * level 2: gear hash `h = (h << 1) + gear[byte]`, a cut after byte i when
 * `h & mask == 0`, with the stricter mask below avgSize and the looser one
 * from avgSize to maxSize. The first minSize bytes of a chunk are skipped
 * without hashing; the hash starts at 0 at offset minSize.
 */

/** Where a chunk in progress stands: bytes of it consumed so far, and the hash. */
export interface ScanState {
  length: number;
  hash: number;
}

export function newScanState(): ScanState {
  return { length: 0, hash: 0 };
}

/** The gear table as int32, so the hot loop stays in 32-bit integer arithmetic. */
export function gearAsInt32(gear: Uint32Array): Int32Array {
  if (gear.length !== 256) throw new RangeError(`gear table must have 256 entries, got ${gear.length}`);
  return new Int32Array(gear.buffer, gear.byteOffset, 256);
}

/**
 * Continues the chunk described by `state` over buf[start, end). Returns the
 * index just past the cut (and resets `state` for the next chunk), or -1 when
 * the range ends first (and `state` then covers the whole range).
 */
export function scanForCut(
  buf: Uint8Array,
  start: number,
  end: number,
  state: ScanState,
  p: ResolvedChunkerParams,
  gear: Int32Array,
): number {
  // Chunk offset of buf[i] is base + i.
  const base = state.length - start;
  let i = start;
  const hashFrom = p.minSize - base;
  if (i < hashFrom) i = hashFrom < end ? hashFrom : end;
  let h = state.hash;

  const maskS = p.maskS;
  const normalEnd = Math.min(end, p.avgSize - base);
  for (; i < normalEnd; i++) {
    h = ((h << 1) + gear[buf[i]!]!) | 0;
    if ((h & maskS) === 0) return cut(state, i + 1);
  }
  const maskL = p.maskL;
  const hardEnd = Math.min(end, p.maxSize - base);
  for (; i < hardEnd; i++) {
    h = ((h << 1) + gear[buf[i]!]!) | 0;
    if ((h & maskL) === 0) return cut(state, i + 1);
  }
  if (base + i === p.maxSize) return cut(state, i);

  state.length = base + i;
  state.hash = h;
  return -1;
}

function cut(state: ScanState, at: number): number {
  state.length = 0;
  state.hash = 0;
  return at;
}

/**
 * The end of the chunk that starts at `start`, all of whose data lies in
 * buf[start, end): the index just past the cut, or -1 when the data ends
 * before a cut (the caller decides whether that is the last chunk).
 */
export function findBoundary(buf: Uint8Array, start: number, end: number, p: ResolvedChunkerParams, gear: Int32Array): number {
  return scanForCut(buf, start, end, newScanState(), p, gear);
}
