export { Chunker, chunkBuffer } from './chunker.js';
export { findBoundary, gearAsInt32, newScanState, scanForCut, type ScanState } from './fastcdc.js';
export { GEAR_KEY_BYTES, gearTable } from './gear.js';
export {
  CHUNK_SIZE_LIMITS,
  DEFAULT_CHUNKER_PARAMS,
  resolveChunkerParams,
  type ChunkerParams,
  type ResolvedChunkerParams,
} from './params.js';
