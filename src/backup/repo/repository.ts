import { BulwarkError } from '../../core/errors.js';
import { DEFAULT_CHUNKER_PARAMS, type ChunkerParams } from '../chunker/index.js';
import type { Backend, FileKind } from '../backend/types.js';
import { decodeBlob, type BlobKeys } from './blob-codec.js';
import { decodeBlobAsync } from './async-codec.js';
import { fileId, open, seal, tryOpen } from './crypto.js';
import { createKeyFile, newMasterKey, openKeyFile, parseKeyFile, type MasterKey } from './keys.js';
import { MasterIndex, type IndexFileContent } from './master-index.js';
import type { Snapshot, SnapshotRef, Tree } from './types.js';


export interface RepoConfig {
  version: 1;
  id: string;
  created: string;
  chunker: ChunkerParams;
}

export const DEFAULT_CHUNKER: ChunkerParams = { ...DEFAULT_CHUNKER_PARAMS };

const SYNC_DECODE_BYTES = 256 * 1024;

export interface InitOptions {
  chunker?: ChunkerParams;
  /** Share the content key and chunker with this repository, so `copy` moves only what is missing. */
  copyFrom?: Repository;
  signal?: AbortSignal;
}

export class Repository {
  private constructor(
    readonly backend: Backend,
    readonly master: MasterKey,
    readonly config: RepoConfig,
    readonly keyId: string,
  ) {}

  get keys(): BlobKeys {
    return this.master;
  }

  static async init(backend: Backend, password: string, options: InitOptions = {}): Promise<Repository> {
    if (await backend.stat('config', 'config', options.signal)) {
      throw new BulwarkError('REPO_EXISTS', `a repository already exists at ${backend.location}`, { hint: 'use it as it is, or choose an empty location' });
    }
    const source = options.copyFrom;
    const master = source ? { ...newMasterKey(), mac: source.master.mac, chunker: source.master.chunker } : newMasterKey();
    const config: RepoConfig = { version: 1, id: fileId(master.mac).slice(0, 16) + Date.now().toString(16), created: new Date().toISOString(), chunker: source?.config.chunker ?? options.chunker ?? DEFAULT_CHUNKER };
    const key = await createKeyFile(master, password);
    await backend.create(options.signal);
    await backend.write('keys', key.id, key.bytes, options.signal);
    // The config is written last: a repository without one is an unfinished init that the next init may reuse.
    await backend.write('config', 'config', seal(master.encryption, Buffer.from(JSON.stringify(config))), options.signal);
    return new Repository(backend, master, config, key.id);
  }

  static async open(backend: Backend, password: string, signal?: AbortSignal): Promise<Repository> {
    const configBytes = await readConfig(backend, signal);
    const keys = await backend.list('keys', signal);
    for (const key of keys) {
      const bytes = await backend.read('keys', key.name, undefined, signal);
      const master = await openKeyFile(bytes, password);
      if (master === undefined) continue;
      // A key left by an interrupted init opens, but not this repository's config.
      const plain = tryOpen(master.encryption, configBytes);
      if (plain === undefined) continue;
      const config = JSON.parse(plain.toString('utf8')) as RepoConfig;
      return new Repository(backend, master, config, key.name);
    }
    throw new BulwarkError('REPO_WRONG_PASSWORD', `the password opens none of the ${keys.length} key(s) of ${backend.location}`, {
      hint: 'check BULWARK_BACKUP_PASSWORD or --password-file; `bulwark backup key list` shows the keys once you can open the repository',
    });
  }

  /** Closes the backend's connections (SFTP sessions, HTTP agents). */
  async close(): Promise<void> {
    await this.backend.close();
  }

  async saveFile(kind: FileKind, value: unknown, signal?: AbortSignal): Promise<string> {
    const bytes = seal(this.master.encryption, Buffer.from(JSON.stringify(value)));
    const id = fileId(bytes);
    await this.backend.write(kind, id, bytes, signal);
    return id;
  }

  async loadFile<T>(kind: FileKind, name: string, signal?: AbortSignal): Promise<T> {
    const bytes = await this.backend.read(kind, name, undefined, signal);
    if (fileId(bytes) !== name) {
      throw new BulwarkError('REPO_CORRUPT', `${kind}/${name.slice(0, 12)} does not match its name: the file was altered or damaged`, { hint: 'run `bulwark backup check` to see what it affects' });
    }
    return JSON.parse(open(this.master.encryption, bytes, `${kind}/${name.slice(0, 12)}`).toString('utf8')) as T;
  }

  async loadIndex(signal?: AbortSignal): Promise<MasterIndex> {
    const index = new MasterIndex();
    const files = await this.backend.list('index', signal);
    const contents = await mapLimit(files, 8, (file) => this.loadFile<IndexFileContent>('index', file.name, signal));
    files.forEach((file, i) => index.addIndexFile(file.name, contents[i]!));
    return index;
  }

  async listSnapshots(signal?: AbortSignal): Promise<SnapshotRef[]> {
    const files = await this.backend.list('snapshots', signal);
    const snapshots = await mapLimit(files, 8, async (file) => ({ id: file.name, snapshot: await this.loadFile<Snapshot>('snapshots', file.name, signal) }));
    return snapshots.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
  }

  /** `latest`, or a unique prefix of an id (at least 4 characters). */
  async findSnapshot(ref: string, filter: (s: Snapshot) => boolean = () => true, signal?: AbortSignal): Promise<SnapshotRef> {
    const all = (await this.listSnapshots(signal)).filter((s) => filter(s.snapshot));
    if (ref === 'latest') {
      const latest = all.at(-1);
      if (!latest) throw new BulwarkError('NOT_FOUND', `no snapshot in ${this.backend.location} matches`, { hint: 'run `bulwark backup ls` to see what is there' });
      return latest;
    }
    if (!/^[0-9a-f]{4,64}$/.test(ref)) throw new BulwarkError('USAGE', `"${ref}" is not a snapshot id`, { hint: 'give `latest` or at least the first 4 hex digits of an id from `bulwark backup ls`' });
    const matches = all.filter((s) => s.id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    throw new BulwarkError(matches.length === 0 ? 'NOT_FOUND' : 'USAGE', matches.length === 0 ? `no snapshot ${ref} in ${this.backend.location}` : `${matches.length} snapshots start with ${ref}`, { hint: matches.length === 0 ? 'run `bulwark backup ls`' : 'give more digits of the id' });
  }

  async loadBlob(index: MasterIndex, id: string, signal?: AbortSignal): Promise<Buffer> {
    const at = index.get(id);
    if (!at) throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} is in no index`, { hint: 'run `bulwark backup check` to see what it affects' });
    const sealed = await this.backend.read('data', at.pack, { offset: at.offset, length: at.length }, signal);
    // Small blobs (trees, mostly) decode faster here than through the thread pool; big ones use every core.
    return at.length <= SYNC_DECODE_BYTES ? decodeBlob(this.master, id, sealed, at.compressed, at.rawLength) : decodeBlobAsync(this.master, id, sealed, at.compressed);
  }

  async loadTree(index: MasterIndex, id: string, signal?: AbortSignal): Promise<Tree> {
    return JSON.parse((await this.loadBlob(index, id, signal)).toString('utf8')) as Tree;
  }

  async addKey(password: string, signal?: AbortSignal): Promise<string> {
    const key = await createKeyFile(this.master, password);
    await this.backend.write('keys', key.id, key.bytes, signal);
    return key.id;
  }

  async listKeys(signal?: AbortSignal): Promise<Array<{ id: string; current: boolean; created: string; hostname: string; username: string }>> {
    const files = await this.backend.list('keys', signal);
    return Promise.all(files.map(async (f) => {
      const key = parseKeyFile(await this.backend.read('keys', f.name, undefined, signal));
      return { id: f.name, current: f.name === this.keyId, created: key.created, hostname: key.hostname, username: key.username };
    }));
  }

  async removeKey(id: string, signal?: AbortSignal): Promise<void> {
    const keys = await this.listKeys(signal);
    const match = keys.filter((k) => k.id.startsWith(id));
    if (match.length !== 1) throw new BulwarkError(match.length ? 'USAGE' : 'NOT_FOUND', match.length ? `${match.length} keys start with ${id}` : `no key ${id}`, { hint: 'run `bulwark backup key list`' });
    if (match[0]!.current) throw new BulwarkError('USAGE', 'refusing to remove the key this command was opened with', { hint: 'open the repository with another key (password) to remove this one' });
    await this.backend.remove('keys', match[0]!.id, signal);
  }
}

async function readConfig(backend: Backend, signal?: AbortSignal): Promise<Buffer> {
  if (!(await backend.stat('config', 'config', signal))) {
    throw new BulwarkError('REPO_NOT_FOUND', `there is no repository at ${backend.location}`, { hint: 'create one with `bulwark backup init`, or check the path' });
  }
  return backend.read('config', 'config', undefined, signal);
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
