import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants } from 'node:zlib';
import { BulwarkError } from '../../core/errors.js';
import type { PrunableWalStore } from '../postgres/index.js';
import { open, seal } from '../repo/crypto.js';
import type { Repository } from '../repo/repository.js';

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
    const header = Buffer.from(`${name}\n`);
    // Off the event loop: the asynchronous archiver compresses several segments at once on libuv's threads.
    const body = await compress(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_LGWIN]: 18, [constants.BROTLI_PARAM_SIZE_HINT]: data.length }, chunkSize: 1024 * 1024 });
    await this.repo.backend.write('wal', this.fileName(name), seal(this.repo.master.encryption, Buffer.concat([header, body])), signal);
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
