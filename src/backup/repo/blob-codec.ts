import { createDecipheriv } from 'node:crypto';
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
 * Where decodeBlob may decrypt into, reused from blob to blob by a thread that
 * decodes many: the cipher then hands out small pieces, which the allocator
 * recycles, instead of a fresh buffer of the blob's size each time (whose
 * pages the kernel maps and zeroes anew, and unmaps again when it is freed).
 */
export interface Scratch { buffer: Buffer }

const CIPHER_SLICE = 64 * 1024;

/**
 * Decrypts, decompresses and checks the content address: a blob that comes
 * back is the blob that went in. `rawLength` (from the index) sizes the
 * decompression buffer; a wrong one costs speed, never correctness. With
 * `scratch`, what comes back may lie in scratch.buffer: valid until the next
 * call with the same scratch.
 */
export function decodeBlob(keys: BlobKeys, id: string, sealed: Buffer, compressed: boolean, rawLength?: number, scratch?: Scratch): Buffer {
  const plain = openBlob(keys.encryption, sealed, id, scratch);
  const data = compressed ? decompress(plain, id, rawLength) : plain;
  if (blobId(keys.mac, data).toString('hex') !== id) {
    throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} does not match its content address`, { hint: CHECK_HINT });
  }
  return data;
}

const CHECK_HINT = 'run `bulwark backup check --read-data` to list the snapshots and files it affects';

/** open() of crypto.ts without its copy into a fresh buffer (GCM's final() is empty), or into `scratch`. */
function openBlob(key: Buffer, sealed: Buffer, id: string, scratch: Scratch | undefined): Buffer {
  const failed = (): never => {
    throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} failed authentication: it was altered or damaged`, { hint: CHECK_HINT });
  };
  if (sealed.length < SEAL_OVERHEAD) failed();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
    if (!scratch) {
      const plain = decipher.update(body);
      const final = decipher.final();
      return final.length > 0 ? Buffer.concat([plain, final]) : plain;
    }
    if (scratch.buffer.length < body.length + TAG_BYTES) scratch.buffer = Buffer.allocUnsafeSlow(Math.max(body.length + TAG_BYTES, 2 * scratch.buffer.length));
    let at = 0;
    for (let offset = 0; offset < body.length; offset += CIPHER_SLICE) at += decipher.update(body.subarray(offset, offset + CIPHER_SLICE)).copy(scratch.buffer, at);
    at += decipher.final().copy(scratch.buffer, at);
    return scratch.buffer.subarray(0, at);
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
