import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync } from 'node:zlib';
import { BulwarkError } from '../../core/errors.js';
import { blobId, NONCE_BYTES, seal, SEAL_OVERHEAD, TAG_BYTES } from './crypto.js';
import type { BlobType, SealedBlob } from './pack.js';

export type CompressionMode = 'auto' | 'off' | 'max';

const SAMPLE_BYTES = 16 * 1024;

/**
 * Compression where it pays: a fast deflate of a 16 KiB sample tells random
 * or already-compressed data apart for ~1% of the cost of compressing it.
 * Brotli at quality 1 beat deflate on both speed and ratio on our data.
 */
export function compressIfWorthIt(data: Buffer, mode: CompressionMode): Buffer | undefined {
  if (mode === 'off' || data.length < 512) return undefined;
  if (mode === 'auto' && !sampleCompresses(data)) return undefined;
  const quality = mode === 'max' ? 6 : 1;
  // One output buffer as large as the input: zlib then neither loops over 16 KiB pieces nor concatenates them.
  const packed = brotliCompressSync(data, {
    chunkSize: Math.max(1024, data.length),
    params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  return packed.length < data.length * 0.97 ? packed : undefined;
}

function sampleCompresses(data: Buffer): boolean {
  if (data.length <= SAMPLE_BYTES) return true;
  const start = Math.floor((data.length - SAMPLE_BYTES) / 2);
  const sample = data.subarray(start, start + SAMPLE_BYTES);
  return deflateRawSync(sample, { level: 1 }).length < SAMPLE_BYTES * 0.9;
}

export interface BlobKeys { encryption: Buffer; mac: Buffer }

export function encodeBlob(keys: BlobKeys, type: BlobType, data: Buffer, mode: CompressionMode, id = blobId(keys.mac, data).toString('hex')): SealedBlob {
  const compressed = compressIfWorthIt(data, mode);
  return { id, type, rawLength: data.length, compressed: compressed !== undefined, sealed: seal(keys.encryption, compressed ?? data) };
}

/**
 * seal() without its final copy: [nonce, ciphertext, tag], whose concatenation
 * is the sealed message. Pack assembly copies the pieces once, into the pack.
 */
export function sealParts(key: Buffer, plaintext: Buffer): Buffer[] {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return final.length > 0 ? [nonce, body, final, cipher.getAuthTag()] : [nonce, body, cipher.getAuthTag()];
}

/**
 * Decrypts, decompresses and checks the content address: a blob that comes
 * back is the blob that went in. `rawLength` (from the index) sizes the
 * decompression buffer; a wrong one costs speed, never correctness.
 */
export function decodeBlob(keys: BlobKeys, id: string, sealed: Buffer, compressed: boolean, rawLength?: number): Buffer {
  const plain = openBlob(keys.encryption, sealed, id);
  const data = compressed ? decompress(plain, id, rawLength) : plain;
  if (blobId(keys.mac, data).toString('hex') !== id) {
    throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} does not match its content address`, { hint: CHECK_HINT });
  }
  return data;
}

const CHECK_HINT = 'run `bulwark backup check --read-data` to list the snapshots and files it affects';

/** open() of crypto.ts without the copy into a fresh buffer (GCM's final() is empty). */
function openBlob(key: Buffer, sealed: Buffer, id: string): Buffer {
  const failed = (): never => {
    throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} failed authentication: it was altered or damaged`, { hint: CHECK_HINT });
  };
  if (sealed.length < SEAL_OVERHEAD) failed();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
    const final = decipher.final();
    return final.length > 0 ? Buffer.concat([body, final]) : body;
  } catch {
    return failed();
  }
}

function decompress(data: Buffer, id: string, rawLength: number | undefined): Buffer {
  try {
    // 64 bytes of slack: a full output buffer would make zlib allocate another one just to find the end.
    return brotliDecompressSync(data, rawLength === undefined ? {} : { chunkSize: Math.max(1024, rawLength + 64) });
  } catch (err) {
    throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} does not decompress`, { cause: err, hint: 'run `bulwark backup check --read-data`' });
  }
}
