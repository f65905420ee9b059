import type { Readable } from 'node:stream';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * A request body that is streamed to the upstream while the first `bufferLimit` bytes
 * are kept, so a failed attempt can be replayed to another upstream (Envoy's
 * per-request buffer limit). Once the body grows past the limit the copy is dropped
 * and the body can no longer be replayed: large uploads are never held in memory.
 */
export class ReplayableBody {
  private readonly source: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private total = 0;
  private overflowed = false;
  private ended = false;
  private pending: Promise<Buffer | undefined> | undefined;
  private opened = 0;
  tooLarge = false;
  /** The client's stream failed (aborted upload): not the upstream's fault. */
  clientFailed = false;

  constructor(
    stream: Readable,
    private readonly bufferLimit: number,
    private readonly maxBytes: number,
  ) {
    this.source = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** True while every byte read so far is still held (or nothing has been sent yet). */
  get replayable(): boolean {
    return this.opened === 0 || !this.overflowed;
  }

  /** A fresh stream of the body from its first byte. */
  async *open(): AsyncGenerator<Buffer> {
    this.opened++;
    let index = 0;
    for (;;) {
      if (!this.overflowed) {
        while (index < this.chunks.length) yield this.chunks[index++] as Buffer;
      }
      if (this.ended) return;
      const chunk = await this.pull();
      if (chunk === undefined) return;
      if (this.overflowed) yield chunk;
    }
  }

  /** Single reader of the client stream, shared by an aborted attempt and its replay. */
  private pull(): Promise<Buffer | undefined> {
    this.pending ??= this.source.next().then(
      (result) => {
        this.pending = undefined;
        if (result.done) {
          this.ended = true;
          return undefined;
        }
        this.record(result.value);
        return result.value;
      },
      (err: unknown) => {
        this.pending = undefined;
        this.clientFailed = true;
        throw err;
      },
    );
    return this.pending;
  }

  private record(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.total > this.maxBytes) {
      this.tooLarge = true;
      throw new BodyTooLargeError(this.maxBytes);
    }
    if (this.overflowed) return;
    if (this.total > this.bufferLimit) {
      this.overflowed = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(chunk);
  }
}
