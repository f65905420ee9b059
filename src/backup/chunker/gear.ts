import { createHmac } from 'node:crypto';
import { BulwarkError } from '../../core/errors.js';

export const GEAR_KEY_BYTES = 32;

/** Domain separation, so the same repository key can safely feed other HMAC uses. */
const LABEL = Buffer.from('bulwark/chunker/gear/v1\0', 'utf8');

/**
 * The 256 random 32-bit gear values, derived from a per-repository secret:
 * HMAC-SHA256(key, LABEL || u32be(block)) for blocks 0..31, read as
 * little-endian uint32. A keyed table means boundaries (and so chunk sizes)
 * cannot be used to confirm that a repository holds a known file.
 */
export function gearTable(key: Buffer): Uint32Array {
  if (!Buffer.isBuffer(key) || key.length !== GEAR_KEY_BYTES) {
    throw new BulwarkError('USAGE', `chunker key must be ${GEAR_KEY_BYTES} bytes, got ${Buffer.isBuffer(key) ? key.length : typeof key}`, {
      hint: 'derive the chunker key from the repository master key (32 random bytes, kept secret)',
    });
  }
  const bytes = Buffer.alloc(256 * 4);
  const counter = Buffer.alloc(4);
  for (let block = 0; block < bytes.length / 32; block++) {
    counter.writeUInt32BE(block, 0);
    createHmac('sha256', key).update(LABEL).update(counter).digest().copy(bytes, block * 32);
  }
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = bytes.readUInt32LE(i * 4);
  return table;
}
