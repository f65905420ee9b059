import { createHash } from 'node:crypto';
import { BulwarkError } from '../../core/errors.js';
import { open, seal, SEAL_OVERHEAD } from './crypto.js';

/**
 * A pack file: sealed blobs back to back, then the sealed header, then the
 * header's sealed length as a little-endian uint32. The header repeats what the
 * index says, so a lost index can be rebuilt from the packs alone.
 *
 * Header entry (42 bytes): type u8 | flags u8 | sealed length u32 | raw length u32 | id 32 bytes.
 */
export type BlobType = 'data' | 'tree';

export const FLAG_COMPRESSED = 1;
const ENTRY_BYTES = 42;

export interface PackEntry {
  id: string;
  type: BlobType;
  offset: number;
  /** Bytes stored: sealed (and possibly compressed). */
  length: number;
  /** Bytes of the plaintext blob. */
  rawLength: number;
  compressed: boolean;
}

export interface SealedBlob {
  id: string;
  type: BlobType;
  /** The sealed bytes, or pieces whose concatenation they are. */
  sealed: Buffer | readonly Buffer[];
  rawLength: number;
  compressed: boolean;
}

export function sealedLength(blob: SealedBlob): number {
  if (Buffer.isBuffer(blob.sealed)) return blob.sealed.length;
  let n = 0;
  for (const part of blob.sealed as readonly Buffer[]) n += part.length;
  return n;
}

/**
 * Assembles a pack in one buffer: each blob is copied in as it arrives and
 * hashed on the way, so finishing costs neither a concatenation nor a pass
 * over 16 MiB. The buffer can be handed in (and reused once the pack is
 * written); it grows when a blob does not fit.
 */
export class PackBuilder {
  readonly entries: PackEntry[] = [];
  private size = 0;
  private readonly hash = createHash('sha256');
  private finished = false;

  constructor(private buffer: Buffer = Buffer.alloc(0)) {}

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.entries.length;
  }

  /** The buffer the pack is assembled in (the one handed in, unless a blob did not fit). */
  get storage(): Buffer {
    return this.buffer;
  }

  add(blob: SealedBlob): void {
    if (this.finished) throw new Error('PackBuilder.add after finish');
    const length = sealedLength(blob);
    this.entries.push({ id: blob.id, type: blob.type, offset: this.size, length, rawLength: blob.rawLength, compressed: blob.compressed });
    this.append(Buffer.isBuffer(blob.sealed) ? [blob.sealed] : (blob.sealed as readonly Buffer[]), length);
  }

  /** The finished pack and its name (SHA-256 of its bytes); `bytes` lies in `storage`. */
  finish(key: Buffer): { id: string; bytes: Buffer; entries: PackEntry[] } {
    const header = seal(key, encodeHeader(this.entries));
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32LE(header.length);
    this.append([header, trailer], header.length + 4);
    this.finished = true;
    return { id: this.hash.digest('hex'), bytes: this.buffer.subarray(0, this.size), entries: this.entries };
  }

  private append(parts: readonly Buffer[], length: number): void {
    const start = this.size;
    if (start + length > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(start + length, Math.min(2 * this.buffer.length, start + length + 16 * 1024 * 1024), 64 * 1024));
      this.buffer.copy(grown, 0, 0, start);
      this.buffer = grown;
    }
    let at = start;
    for (const part of parts) at += part.copy(this.buffer, at);
    this.hash.update(this.buffer.subarray(start, at));
    this.size = at;
  }
}

export function encodeHeader(entries: PackEntry[]): Buffer {
  const out = Buffer.alloc(entries.length * ENTRY_BYTES);
  entries.forEach((entry, i) => {
    const at = i * ENTRY_BYTES;
    out.writeUInt8(entry.type === 'tree' ? 1 : 0, at);
    out.writeUInt8(entry.compressed ? FLAG_COMPRESSED : 0, at + 1);
    out.writeUInt32LE(entry.length, at + 2);
    out.writeUInt32LE(entry.rawLength, at + 6);
    Buffer.from(entry.id, 'hex').copy(out, at + 10);
  });
  return out;
}

/**
 * Reads the header of a pack; offsets are recomputed from the lengths. `pack`
 * is the whole pack, or its last bytes (at least the header and trailer) when
 * `packLength` gives the size of the whole.
 */
export function decodePackHeader(key: Buffer, pack: Buffer, packId: string, packLength = pack.length): PackEntry[] {
  const fail = (why: string): never => {
    throw new BulwarkError('REPO_CORRUPT', `pack ${packId.slice(0, 12)} is damaged: ${why}`, { hint: 'run `bulwark backup check --read-data` to list the snapshots and files it affects' });
  };
  if (packLength < 4 + SEAL_OVERHEAD || pack.length < 4) fail('it is too short to hold a header');
  const headerLength = pack.readUInt32LE(pack.length - 4);
  if (headerLength + 4 > packLength) fail('its header length points outside the file');
  if (headerLength + 4 > pack.length) fail('its header overlaps the blobs its index names');
  const header = open(key, pack.subarray(pack.length - 4 - headerLength, pack.length - 4), `the header of pack ${packId.slice(0, 12)}`);
  if (header.length % ENTRY_BYTES !== 0) fail('its header has a partial entry');
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let at = 0; at < header.length; at += ENTRY_BYTES) {
    const length = header.readUInt32LE(at + 2);
    entries.push({
      type: header.readUInt8(at) === 1 ? 'tree' : 'data',
      compressed: (header.readUInt8(at + 1) & FLAG_COMPRESSED) !== 0,
      length,
      rawLength: header.readUInt32LE(at + 6),
      id: header.subarray(at + 10, at + 42).toString('hex'),
      offset,
    });
    offset += length;
  }
  if (offset + headerLength + 4 !== packLength) fail('its header does not account for every byte');
  return entries;
}
