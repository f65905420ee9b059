import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { BulwarkError } from '../../core/errors.js';

/**
 * Authenticated encryption of everything the repository stores: AES-256-GCM,
 * a fresh random 96-bit nonce per message. Layout: nonce | ciphertext | tag.
 * Random nonces are safe for far more than 2^32 messages per key at our sizes
 * (the NIST bound is on the number of messages, and packs hold ~16 blobs/MiB).
 */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

export function seal(key: Buffer, plaintext: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([nonce, body, final, cipher.getAuthTag()]);
}

/** Throws REPO_CORRUPT when the data was altered or the key is wrong. */
export function open(key: Buffer, sealed: Buffer, what = 'data'): Buffer {
  const plaintext = tryOpen(key, sealed);
  if (plaintext === undefined) {
    throw new BulwarkError('REPO_CORRUPT', `${what} failed authentication: it was altered or damaged`, {
      hint: 'run `bulwark backup check --read-data` to find every damaged file and the snapshots it affects',
    });
  }
  return plaintext;
}

export function tryOpen(key: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < SEAL_OVERHEAD) return undefined;
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAuthTag(tag);
    const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES));
    return Buffer.concat([body, decipher.final()]);
  } catch {
    return undefined;
  }
}

/** Content address of a blob: keyed, so identical data in two repositories with different keys gets unrelated ids. */
export function blobId(macKey: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', macKey).update(data).digest();
}

/** Name of a stored file: the SHA-256 of its stored (encrypted) bytes, so integrity checks need no key. */
export function fileId(stored: Buffer): string {
  return createHash('sha256').update(stored).digest('hex');
}

export function randomId(): string {
  return randomBytes(32).toString('hex');
}
