import { createHash, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import type { SFTPWrapper } from 'ssh2';
import { homedir } from 'node:os';
import { BulwarkError, errnoCode } from '../../core/errors.js';
import { KIND_DIRS, TEMP_PREFIX, checkKind, checkName, checkRange, isValidName, layoutPath, tempName } from './names.js';
import { isConnectionError, isMissing, mapSftpError, type Target } from './sftp-errors.js';
import { readRange, writeFileSynced } from './sftp-raw.js';
import type { Backend, ByteRange, FileInfo, FileKind } from './types.js';
import { sftpLocation } from './locations.js';

export interface SftpBackendOptions {
  host: string;
  port: number;
  user: string;
  /** Repository folder on the server: absolute, or relative to the login's home. */
  path: string;
  privateKey?: Buffer | string;
  privateKeyFile?: string;
  password?: string;
  /** SSH agent socket (usually SSH_AUTH_SOCK), tried when no key or password is given. */
  agent?: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it; when set, any other host key is refused. */
  hostKey?: string;
  connectTimeoutMs?: number;
}

interface Connection {
  client: SftpClient;
  sftp: SFTPWrapper;
}

/** ssh2-sftp-client adds 3 listeners to its ssh2 client per call in progress: bound the calls, raise the limit to match. */
const MAX_CALLS = 32;

/**
 * A repository over SFTP with the local layout. Writes upload to `.tmp-<random>`,
 * fsync (when the server supports it) and rename with posix-rename, which
 * replaces the target atomically. A dropped connection is reopened on the next call.
 */
export class SftpBackend implements Backend {
  readonly location: string;
  private readonly root: string;
  private readonly server: string;
  private connection: Promise<Connection> | undefined;
  private calls = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly options: SftpBackendOptions) {
    this.root = posix.normalize(options.path).replace(/(.)\/$/, '$1');
    this.server = `${options.user}@${options.host}:${options.port}`;
    this.location = sftpLocation(options);
  }

  async create(signal?: AbortSignal): Promise<void> {
    await this.run({ path: this.root }, signal, async ({ client }) => {
      await client.mkdir(this.root, true);
      for (const kind of KIND_DIRS) await client.mkdir(posix.join(this.root, kind), true);
    });
  }

  async stat(kind: FileKind, name: string, signal?: AbortSignal): Promise<FileInfo | undefined> {
    const path = this.pathOf(kind, name);
    return this.run({ path, kind, name }, signal, async ({ client }) => {
      try {
        const stats = await client.stat(path);
        return stats.isFile ? { kind, name, size: stats.size } : undefined;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    });
  }

  async read(kind: FileKind, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    const path = this.pathOf(kind, name);
    checkRange(range);
    const whole = { offset: 0, length: Number.MAX_SAFE_INTEGER };
    return this.run({ path, kind, name }, signal, ({ sftp }) => readRange(sftp, path, range ?? whole));
  }

  async write(kind: FileKind, name: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(kind, name);
    const temp = posix.join(posix.dirname(path), tempName(randomBytes(8).toString('hex')));
    await this.run({ path, kind, name }, signal, async (connection) => {
      try {
        await this.upload(connection, kind, temp, data);
        await rename(connection.client, temp, path);
      } catch (err) {
        await connection.client.delete(temp, true).catch(() => undefined);
        throw err;
      }
    });
  }

  async remove(kind: FileKind, name: string, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(kind, name);
    await this.run({ path, kind, name }, signal, ({ client }) => client.delete(path, true));
  }

  async list(kind: FileKind, signal?: AbortSignal): Promise<FileInfo[]> {
    checkKind(kind);
    if (kind === 'config') {
      const info = await this.stat('config', 'config', signal);
      return info ? [info] : [];
    }
    const base = posix.join(this.root, kind);
    return this.run({ path: base }, signal, async ({ client }) => {
      const dirs = kind === 'data' ? (await entries(client, base, 'd')).map((e) => posix.join(base, e.name)) : [base];
      const out: FileInfo[] = [];
      for (const dir of dirs) {
        for (const entry of await entries(client, dir, '-')) out.push({ kind, name: entry.name, size: entry.size });
      }
      return out;
    });
  }

  /** Deletes `.tmp-*` files of uploads cut off by a crash or a dropped connection, if older than `olderThanMs`. */
  async removeStaleTempFiles(olderThanMs: number, signal?: AbortSignal): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    return this.run({ path: this.root }, signal, async ({ client }) => {
      const data = posix.join(this.root, 'data');
      const shards = (await entries(client, data, 'd')).map((e) => posix.join(data, e.name));
      let removed = 0;
      for (const dir of [this.root, ...KIND_DIRS.map((kind) => posix.join(this.root, kind)), ...shards]) {
        for (const entry of await entries(client, dir, '-', (name) => name.startsWith(TEMP_PREFIX))) {
          if (entry.modifyTime >= cutoff) continue;
          await client.delete(posix.join(dir, entry.name), true);
          removed++;
        }
      }
      return removed;
    });
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    const connection = await pending?.catch(() => undefined);
    await connection?.client.end().catch(() => undefined);
  }

  private pathOf(kind: FileKind, name: string): string {
    checkName(kind, name);
    return posix.join(this.root, ...layoutPath(kind, name));
  }

  private async upload({ client, sftp }: Connection, kind: FileKind, temp: string, data: Buffer): Promise<void> {
    const put = () => writeFileSynced(sftp, temp, data, 0o600);
    try {
      await put();
    } catch (err) {
      if (kind !== 'data' || !isMissing(err)) throw err;
      // First file of this shard; the data folder itself comes from create().
      await client.mkdir(posix.dirname(temp)).catch(async (e: unknown) => {
        if (!(await client.exists(posix.dirname(temp)))) throw e;
      });
      await put();
    }
  }

  /** Runs `fn` on the open connection (opening it if needed); forgets a connection that dropped. */
  private async run<T>(target: Target, signal: AbortSignal | undefined, fn: (connection: Connection) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    await this.acquire();
    const pending = (this.connection ??= this.connect());
    try {
      const result = await fn(await pending);
      signal?.throwIfAborted();
      return result;
    } catch (err) {
      const failedToConnect = await pending.then(() => false, () => true);
      if (failedToConnect || isConnectionError(err)) this.forget(pending);
      throw mapSftpError(err, target, { location: this.location, server: this.server, user: this.options.user });
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.calls < MAX_CALLS) {
      this.calls++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.calls--;
  }

  private connect(): Promise<Connection> {
    const pending: Promise<Connection> = (async () => {
      const dropped = () => this.forget(pending);
      const client = new SftpClient('bulwark', { error: dropped, end: dropped, close: dropped });
      (client as unknown as { client: EventEmitter }).client.setMaxListeners(MAX_CALLS * 3 + 10);
      const sftp = await client.connect({
        host: this.options.host,
        port: this.options.port,
        username: this.options.user,
        privateKey: await this.privateKey(),
        password: this.options.password,
        agent: this.options.agent,
        readyTimeout: this.options.connectTimeoutMs ?? 20_000,
        keepaliveInterval: 15_000,
        hostVerifier: this.options.hostKey ? (key: Buffer) => fingerprint(key) === this.options.hostKey : undefined,
      });
      return { client, sftp };
    })();
    return pending;
  }

  private forget(pending: Promise<Connection>): void {
    if (this.connection !== pending) return;
    this.connection = undefined;
    pending.then(({ client }) => client.end()).catch(() => undefined);
  }

  private async privateKey(): Promise<Buffer | string | undefined> {
    const file = this.options.privateKeyFile;
    if (this.options.privateKey !== undefined || file === undefined) return this.options.privateKey;
    try {
      return await readFile(file.startsWith('~/') ? posix.join(homedir(), file.slice(2)) : file);
    } catch (err) {
      throw new BulwarkError('USAGE', `cannot read the SSH private key file ${this.options.privateKeyFile}: ${errnoCode(err) ?? String(err)}`, {
        hint: 'check private_key_file: the file must exist and be readable by this user',
        cause: err,
      });
    }
  }
}

async function rename(client: SftpClient, from: string, to: string): Promise<void> {
  try {
    await client.posixRename(from, to);
  } catch (err) {
    if (!/does not support/i.test(String((err as Error).message))) throw err;
    // Plain SFTP rename refuses to replace: not atomic for overwrites, but those are rare (names are content hashes).
    await client.delete(to, true);
    await client.rename(from, to);
  }
}

async function entries(client: SftpClient, dir: string, type: 'd' | '-', accept = isValidName): Promise<SftpClient.FileInfo[]> {
  try {
    return (await client.list(dir)).filter((entry) => entry.type === type && accept(entry.name));
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
}

function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}
