import { webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import { BulwarkError } from '../../core/errors.js';
import type { BlobKeys } from './blob-codec.js';
import { NONCE_BYTES } from './crypto.js';

const decompress = promisify(brotliDecompress);
const subtle = webcrypto.subtle;

interface CryptoKeys { aes: webcrypto.CryptoKey; hmac: webcrypto.CryptoKey }
const cache = new WeakMap<Buffer, Promise<CryptoKeys>>();

/**
 * The asynchronous twin of decodeBlob: WebCrypto and zlib run on libuv's
 * thread pool, so restores and checks use every core while this thread only
 * moves bytes. Same format, same checks.
 */
export async function decodeBlobAsync(keys: BlobKeys, id: string, sealed: Buffer, compressed: boolean): Promise<Buffer> {
  const { aes, hmac } = await cryptoKeys(keys);
  let plain: Buffer;
  try {
    plain = Buffer.from(await subtle.decrypt({ name: 'AES-GCM', iv: sealed.subarray(0, NONCE_BYTES) }, aes, sealed.subarray(NONCE_BYTES)));
  } catch (err) {
    throw corrupt(`blob ${id.slice(0, 12)} failed authentication: it was altered or damaged`, err);
  }
  let data = plain;
  if (compressed) {
    try {
      data = await decompress(plain);
    } catch (err) {
      throw corrupt(`blob ${id.slice(0, 12)} does not decompress`, err);
    }
  }
  const mac = Buffer.from(await subtle.sign('HMAC', hmac, data));
  if (mac.toString('hex') !== id) throw corrupt(`blob ${id.slice(0, 12)} does not match its content address`);
  return data;
}

export async function sha256Async(data: Buffer): Promise<string> {
  return Buffer.from(await subtle.digest('SHA-256', data)).toString('hex');
}

function cryptoKeys(keys: BlobKeys): Promise<CryptoKeys> {
  let entry = cache.get(keys.encryption);
  if (!entry) {
    entry = Promise.all([
      subtle.importKey('raw', keys.encryption, 'AES-GCM', false, ['decrypt']),
      subtle.importKey('raw', keys.mac, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']),
    ]).then(([aes, hmac]) => ({ aes, hmac }));
    cache.set(keys.encryption, entry);
  }
  return entry;
}

function corrupt(message: string, cause?: unknown): BulwarkError {
  return new BulwarkError('REPO_CORRUPT', message, { cause, hint: 'run `bulwark backup check --read-data` to list the snapshots and files it affects' });
}
