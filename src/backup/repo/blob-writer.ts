import type { BlobKeys, CompressionMode } from './blob-codec.js';
import { encodeBlob } from './blob-codec.js';
import { blobId, SEAL_OVERHEAD } from './crypto.js';
import { encodeIndex, type MasterIndex } from './master-index.js';
import { PackBuilder, sealedLength, type BlobType, type PackEntry, type SealedBlob } from './pack.js';
import type { Repository } from './repository.js';

export interface BlobWriterOptions {
  packSize?: number;
  /** Write an index file every this many packs, so a killed run's data is reused by the next one. */
  checkpointPacks?: number;
  maxWritesInFlight?: number;
  compression?: CompressionMode;
  signal?: AbortSignal;
  onPackWritten?: (bytes: number) => void;
}

export interface WriterStats { blobs: number; rawBytes: number; storedBytes: number; packs: number }

/** Room for a pack's header beyond its blobs; a pack that needs more grows its buffer. */
const HEADER_ROOM = 64 * 1024;

/**
 * Collects new blobs into packs and writes them. The order of durability is
 * what makes a crash harmless: a pack is written before any index names it,
 * and an index before any snapshot can reference its blobs.
 *
 * Memory: a pack is assembled in one buffer (blobs are copied in as they
 * come); the buffers of written packs are reused, so a run holds at most
 * 1 + maxWritesInFlight of them whatever its size.
 */
export class BlobWriter {
  private readonly pending = new Set<string>();
  private readonly writes = new Set<Promise<void>>();
  private unindexed: Array<{ id: string; entries: PackEntry[] }> = [];
  private failure: unknown;
  readonly stats: WriterStats = { blobs: 0, rawBytes: 0, storedBytes: 0, packs: 0 };
  private readonly packSize: number;
  private readonly checkpointPacks: number;
  private readonly maxWrites: number;
  /** Buffers of written packs, ready for the next ones. */
  private readonly spare: Buffer[] = [];
  private readonly capacity: number;
  private pack: PackBuilder;
  private rotating: Promise<void> | undefined;

  constructor(private readonly repo: Repository, private readonly index: MasterIndex, private readonly options: BlobWriterOptions = {}) {
    this.packSize = options.packSize ?? 16 * 1024 * 1024;
    this.checkpointPacks = options.checkpointPacks ?? 16;
    // Two writes in flight: a pack write is mostly waiting (fsync, upload), and one at a time cannot keep up.
    this.maxWrites = options.maxWritesInFlight ?? 2;
    // A pack ends with the blob that takes it past packSize: that blob may be a whole chunk.
    // Pages of the buffer that no pack reaches are never touched, so never resident.
    this.capacity = this.packSize + (repo.config.chunker?.maxSize ?? 8 * 1024 * 1024) + SEAL_OVERHEAD + HEADER_ROOM;
    this.pack = this.newPack();
  }

  get keys(): BlobKeys {
    return this.repo.master;
  }

  has(id: string): boolean {
    return this.index.has(id) || this.pending.has(id);
  }

  /** Adds a sealed blob unless it is already stored; waits while too many packs are being written. */
  async add(blob: SealedBlob): Promise<boolean> {
    if (this.failure) throw this.failure;
    while (this.rotating) await this.rotating;
    if (this.has(blob.id)) return false;
    this.pending.add(blob.id);
    this.pack.add(blob);
    this.stats.blobs++;
    this.stats.rawBytes += blob.rawLength;
    this.stats.storedBytes += sealedLength(blob);
    if (this.pack.bytes >= this.packSize) await this.rotate();
    return true;
  }

  /** Encodes and adds plaintext (trees, small streams) on the calling thread. */
  async save(type: BlobType, data: Buffer): Promise<string> {
    const id = blobId(this.repo.master.mac, data).toString('hex');
    if (!this.has(id)) await this.add(encodeBlob(this.repo.master, type, data, this.options.compression ?? 'auto', id));
    return id;
  }

  /** Writes the last pack and an index for everything not yet indexed. */
  async flush(): Promise<void> {
    while (this.rotating) await this.rotating;
    if (this.pack.count > 0) await this.rotate();
    await Promise.all(this.writes);
    if (this.failure) throw this.failure;
    await this.checkpoint();
  }

  private newPack(): PackBuilder {
    return new PackBuilder(this.spare.pop() ?? Buffer.allocUnsafeSlow(this.capacity));
  }

  /** While a full pack waits for a write slot, new blobs wait for it (back-pressure) rather than pile up. */
  private rotate(): Promise<void> {
    this.rotating = this.finishPack().finally(() => {
      this.rotating = undefined;
    });
    return this.rotating;
  }

  private async finishPack(): Promise<void> {
    const builder = this.pack;
    const finished = builder.finish(this.repo.master.encryption);
    while (this.writes.size >= this.maxWrites) await Promise.race(this.writes);
    if (this.failure) throw this.failure;
    this.pack = this.newPack();
    const write = this.writePack(finished).finally(() => {
      this.writes.delete(write);
      // A buffer that grew past the usual size is left to the garbage collector.
      if (this.failure === undefined && builder.storage.length === this.capacity) this.spare.push(builder.storage);
    });
    this.writes.add(write);
  }

  private async writePack(pack: { id: string; bytes: Buffer; entries: PackEntry[] }): Promise<void> {
    try {
      await this.repo.backend.write('data', pack.id, pack.bytes, this.options.signal);
      this.index.addPack(pack.id, pack.entries);
      for (const entry of pack.entries) this.pending.delete(entry.id);
      this.stats.packs++;
      this.options.onPackWritten?.(pack.bytes.length);
      this.unindexed.push({ id: pack.id, entries: pack.entries });
      if (this.unindexed.length >= this.checkpointPacks) await this.checkpoint();
    } catch (err) {
      this.failure ??= err;
    }
  }

  private async checkpoint(): Promise<void> {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    await this.repo.saveFile('index', encodeIndex(packs), this.options.signal);
  }
}
