import { randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { BulwarkError } from '../../core/errors.js';
import { fileId, seal, tryOpen } from './crypto.js';

/** The secrets of one repository. Key files only wrap this; changing a password never re-encrypts data. */
export interface MasterKey {
  /** AES-256-GCM key for every blob, index, snapshot and lock. */
  encryption: Buffer;
  /** HMAC-SHA256 key that gives blobs their content address. */
  mac: Buffer;
  /** Seed of the chunker's gear table, so chunk boundaries do not fingerprint content. */
  chunker: Buffer;
}

export interface KdfParams { name: 'scrypt'; N: number; r: number; p: number; salt: string }

export interface KeyFile {
  version: 1;
  kdf: KdfParams;
  created: string;
  hostname: string;
  username: string;
  /** base64 of seal(kdf(password), master key JSON) */
  data: string;
}

/** scrypt with N=2^16, r=8: 64 MiB and ~0.2 s per attempt, which is what makes a password guess expensive. */
export const DEFAULT_KDF = { N: 2 ** 16, r: 8, p: 1 } as const;

export function newMasterKey(): MasterKey {
  return { encryption: randomBytes(32), mac: randomBytes(32), chunker: randomBytes(32) };
}

export async function deriveKey(password: string, kdf: KdfParams): Promise<Buffer> {
  const options: ScryptOptions = { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scryptCallback(password.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function createKeyFile(master: MasterKey, password: string, params = DEFAULT_KDF): Promise<{ id: string; bytes: Buffer }> {
  if (password.length === 0) throw new BulwarkError('USAGE', 'the repository password is empty', { hint: 'set BULWARK_BACKUP_PASSWORD, use --password-file, or give the repository a password in bulwark.yaml' });
  const kdf: KdfParams = { name: 'scrypt', ...params, salt: randomBytes(32).toString('base64') };
  const wrapping = await deriveKey(password, kdf);
  const payload = Buffer.from(JSON.stringify({ encryption: master.encryption.toString('base64'), mac: master.mac.toString('base64'), chunker: master.chunker.toString('base64') }));
  const file: KeyFile = { version: 1, kdf, created: new Date().toISOString(), hostname: hostname(), username: safeUsername(), data: seal(wrapping, payload).toString('base64') };
  const bytes = Buffer.from(JSON.stringify(file, null, 2));
  return { id: fileId(bytes), bytes };
}

/** Undefined when the password does not open this key file. */
export async function openKeyFile(bytes: Buffer, password: string): Promise<MasterKey | undefined> {
  const file = parseKeyFile(bytes);
  const wrapping = await deriveKey(password, file.kdf);
  const payload = tryOpen(wrapping, Buffer.from(file.data, 'base64'));
  if (payload === undefined) return undefined;
  const raw = JSON.parse(payload.toString('utf8')) as Record<string, string>;
  return { encryption: Buffer.from(raw.encryption!, 'base64'), mac: Buffer.from(raw.mac!, 'base64'), chunker: Buffer.from(raw.chunker!, 'base64') };
}

export function parseKeyFile(bytes: Buffer): KeyFile {
  let file: KeyFile;
  try {
    file = JSON.parse(bytes.toString('utf8')) as KeyFile;
  } catch (err) {
    throw new BulwarkError('REPO_CORRUPT', 'a key file is not valid JSON', { cause: err, hint: 'restore the keys/ folder from a copy, or open the repository with another key' });
  }
  if (file.version !== 1 || file.kdf?.name !== 'scrypt' || typeof file.data !== 'string') {
    throw new BulwarkError('REPO_CORRUPT', 'a key file has an unknown format', { hint: 'this repository may have been written by a newer Bulwark' });
  }
  return file;
}

function safeUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
