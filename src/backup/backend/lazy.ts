import type { Backend, ByteRange, FileInfo, FileKind } from './types.js';

/**
 * A backend whose client library loads on first use: the AWS SDK and ssh2
 * cost a fifth of a second at start-up, which every CLI call (and every
 * archive_command PostgreSQL runs) would otherwise pay.
 */
export class LazyBackend implements Backend {
  private loaded: Promise<Backend> | undefined;

  constructor(readonly location: string, private readonly load: () => Promise<Backend>) {}

  private get backend(): Promise<Backend> {
    this.loaded ??= this.load();
    return this.loaded;
  }

  async create(signal?: AbortSignal): Promise<void> {
    return (await this.backend).create(signal);
  }

  async stat(kind: FileKind, name: string, signal?: AbortSignal): Promise<FileInfo | undefined> {
    return (await this.backend).stat(kind, name, signal);
  }

  async read(kind: FileKind, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer> {
    return (await this.backend).read(kind, name, range, signal);
  }

  async write(kind: FileKind, name: string, data: Buffer, signal?: AbortSignal): Promise<void> {
    return (await this.backend).write(kind, name, data, signal);
  }

  async remove(kind: FileKind, name: string, signal?: AbortSignal): Promise<void> {
    return (await this.backend).remove(kind, name, signal);
  }

  async list(kind: FileKind, signal?: AbortSignal): Promise<FileInfo[]> {
    return (await this.backend).list(kind, signal);
  }

  async close(): Promise<void> {
    if (this.loaded) await (await this.loaded).close();
  }
}
