import type { BlobType, PackEntry } from './pack.js';

export interface BlobLocation extends PackEntry {
  pack: string;
}

/** What an index file holds: packs and the blobs in each. */
export interface IndexFileContent {
  version: 1;
  /** [blob id, type (0 data, 1 tree), offset, length, raw length, compressed (0|1)] */
  packs: Array<{ id: string; blobs: Array<[string, 0 | 1, number, number, number, 0 | 1]> }>;
}

/**
 * Every blob's location, merged from all index files. Blobs that appear in two
 * packs (an interrupted prune, or two concurrent backups) resolve to either;
 * both copies are valid.
 */
export class MasterIndex {
  private readonly blobs = new Map<string, BlobLocation>();
  private readonly packs = new Map<string, { indexFile: string | undefined; entries: PackEntry[] }>();

  get blobCount(): number {
    return this.blobs.size;
  }

  get packIds(): string[] {
    return [...this.packs.keys()];
  }

  has(id: string): boolean {
    return this.blobs.has(id);
  }

  get(id: string): BlobLocation | undefined {
    return this.blobs.get(id);
  }

  hasPack(id: string): boolean {
    return this.packs.has(id);
  }

  addPack(pack: string, entries: PackEntry[], indexFile?: string): void {
    this.packs.set(pack, { indexFile, entries });
    for (const entry of entries) if (!this.blobs.has(entry.id)) this.blobs.set(entry.id, { ...entry, pack });
  }

  addIndexFile(name: string, content: IndexFileContent): void {
    for (const pack of content.packs) this.addPack(pack.id, pack.blobs.map(decodeEntry), name);
  }

  /** Every blob a pack holds, including those also stored in another pack. */
  packEntries(pack: string): PackEntry[] {
    return this.packs.get(pack)?.entries ?? [];
  }

  entries(): IterableIterator<BlobLocation> {
    return this.blobs.values();
  }
}

export function encodeIndex(packs: Array<{ id: string; entries: PackEntry[] }>): IndexFileContent {
  return {
    version: 1,
    packs: packs.map((pack) => ({
      id: pack.id,
      blobs: pack.entries.map((e) => [e.id, e.type === 'tree' ? 1 : 0, e.offset, e.length, e.rawLength, e.compressed ? 1 : 0]),
    })),
  };
}

function decodeEntry([id, type, offset, length, rawLength, compressed]: [string, 0 | 1, number, number, number, 0 | 1]): PackEntry {
  return { id, type: (type === 1 ? 'tree' : 'data') as BlobType, offset, length, rawLength, compressed: compressed === 1 };
}
