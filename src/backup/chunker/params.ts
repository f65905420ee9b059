import { BulwarkError } from '../../core/errors.js';

/** Chunk size bounds in bytes. `avgSize` must be a power of two. */
export interface ChunkerParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
}

/** Validated parameters plus the two FastCDC masks derived from `avgSize`. */
export interface ResolvedChunkerParams extends ChunkerParams {
  /** Stricter mask (log2(avg) + 2 bits), used while the chunk is shorter than avgSize. */
  maskS: number;
  /** Looser mask (log2(avg) - 2 bits), used from avgSize up to maxSize. */
  maskL: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_CHUNKER_PARAMS: Readonly<ChunkerParams> = Object.freeze({
  minSize: 512 * KiB,
  avgSize: 1 * MiB,
  maxSize: 8 * MiB,
});

/** avgSize in [256 B, 64 MiB] keeps both masks (log2(avg) ± 2 bits) within 6..28 bits of the 32-bit hash. */
export const CHUNK_SIZE_LIMITS = Object.freeze({ minSize: 64, minAvgSize: 256, maxAvgSize: 64 * MiB, maxSize: 256 * MiB });

/**
 * A mask of `bits` ones at the top of the 32-bit hash, as an int32. The gear
 * hash shifts left, so bit k depends on the last k + 1 bytes only: the high
 * bits see the widest window.
 */
function topMask(bits: number): number {
  return ((2 ** bits - 1) * 2 ** (32 - bits)) | 0;
}

function usage(message: string): BulwarkError {
  return new BulwarkError('USAGE', message, {
    hint: `choose minSize < avgSize < maxSize, avgSize a power of two between 256 B and 64 MiB, minSize >= ${CHUNK_SIZE_LIMITS.minSize} B, maxSize <= 256 MiB (default 512 KiB / 1 MiB / 8 MiB)`,
  });
}

/** Fills in defaults, validates, and derives the masks. Throws BulwarkError USAGE. */
export function resolveChunkerParams(params: Partial<ChunkerParams> = {}): ResolvedChunkerParams {
  const p = { ...DEFAULT_CHUNKER_PARAMS, ...params };
  for (const name of ['minSize', 'avgSize', 'maxSize'] as const) {
    if (!Number.isSafeInteger(p[name]) || p[name] <= 0) throw usage(`chunker ${name} must be a positive integer, got ${String(p[name])}`);
  }
  const { minSize, avgSize, maxSize } = p;
  const { minAvgSize, maxAvgSize } = CHUNK_SIZE_LIMITS;
  if (avgSize < minAvgSize || avgSize > maxAvgSize) throw usage(`chunker avgSize ${avgSize} is outside [${minAvgSize}, ${maxAvgSize}]`);
  if ((avgSize & (avgSize - 1)) !== 0) throw usage(`chunker avgSize must be a power of two, got ${avgSize}`);
  if (minSize < CHUNK_SIZE_LIMITS.minSize) throw usage(`chunker minSize ${minSize} is below ${CHUNK_SIZE_LIMITS.minSize}`);
  if (maxSize > CHUNK_SIZE_LIMITS.maxSize) throw usage(`chunker maxSize ${maxSize} is above ${CHUNK_SIZE_LIMITS.maxSize}`);
  if (!(minSize < avgSize && avgSize < maxSize)) {
    throw usage(`chunker sizes must satisfy minSize < avgSize < maxSize, got ${minSize} / ${avgSize} / ${maxSize}`);
  }
  const bits = Math.log2(avgSize);
  return { minSize, avgSize, maxSize, maskS: topMask(bits + 2), maskL: topMask(bits - 2) };
}
