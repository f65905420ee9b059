import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress } from 'node:zlib';
import { BulwarkError } from '../../core/errors.js';
import type { PrunableWalStore } from '../postgres/index.js';
import { open } from '../repo/crypto.js';
import type { Repository } from '../repo/repository.js';
import { sealWal, walBrotliOptions } from './wal-seal.js';

const compress = promisify(brotliCompress);
const decompress = promisify(brotliDecompress);

/**
 * Archived WAL inside the repository, one encrypted file per WAL file under
 * `wal/<policy>.<name>`. WAL is not deduplicated (every segment is new data)
 * but compresses well. The name is sealed inside, so files cannot be swapped.
 */
export class RepoWalStore implements PrunableWalStore {
  constructor(private readonly repo: Repository, private readonly policy: string) {}

  async put(name: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    // Off the event loop, on libuv's threads (the asynchronous archiver seals in its own worker pool instead).
    const body = await compress(data, walBrotliOptions(data.length, 1024 * 1024));
    await this.putSealed(name, sealWal(this.encryptionKey, name, body), signal);
  }

  /** The key WAL files of this repository are sealed with (see wal-seal.ts). */
  get encryptionKey(): Buffer {
    return this.repo.master.encryption;
  }

  /** Stores a WAL file already sealed with `encryptionKey` by sealWal. */
  async putSealed(name: string, sealed: Buffer, signal?: AbortSignal): Promise<void> {
    await this.repo.backend.write('wal', this.fileName(name), sealed, signal);
  }

  async get(name: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    let sealed: Buffer;
    try {
      sealed = await this.repo.backend.read('wal', this.fileName(name), undefined, signal);
    } catch (err) {
      if (err instanceof BulwarkError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
    const plain = open(this.repo.master.encryption, sealed, `WAL file ${name}`);
    const newline = plain.indexOf(10);
    if (plain.subarray(0, newline).toString() !== name) throw new BulwarkError('REPO_CORRUPT', `the archived WAL file ${name} holds another file`, { hint: 'the wal/ folder of the repository was tampered with; restore it from a copy' });
    return decompress(plain.subarray(newline + 1));
  }

  async list(signal?: AbortSignal): Promise<string[]> {
    const prefix = `${this.policy}.`;
    return (await this.repo.backend.list('wal', signal)).filter((f) => f.name.startsWith(prefix)).map((f) => f.name.slice(prefix.length)).sort();
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    await this.repo.backend.remove('wal', this.fileName(name), signal);
  }

  private fileName(name: string): string {
    return `${this.policy}.${name}`;
  }
}
