import { createHash } from 'node:crypto';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import { ByteBudget } from '../repo/byte-budget.js';
import type { VerifyResult } from '../repo/decode-jobs.js';
import { DecodePool } from '../repo/decode-pool.js';
import type { MasterIndex } from '../repo/master-index.js';
import { decodePackHeader, type PackEntry } from '../repo/pack.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';
import { affectedFiles, type Affected } from './affected.js';

export interface CheckOptions {
  readData?: boolean;
  /** Read only a part of the packs: `1/5` (the first fifth of a stable order) or `20%` (a random fifth). */
  readDataSubset?: string;
  /** Decoding threads for --read-data: default one per core; 0 decodes on this thread. Small reads always decode here. */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (p: { packs: number; totalPacks: number; bytes: number }) => void;
}

export interface CheckReport {
  ok: boolean;
  snapshots: number;
  packs: number;
  blobs: number;
  packsRead: number;
  bytesRead: number;
  errors: string[];
  /** Packs no index names: left by an interrupted run; harmless, `prune` removes them. */
  unreferencedPacks: string[];
  damagedBlobs: string[];
  affected: Affected[];
  durationMs: number;
}

export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const report: CheckReport = { ok: true, snapshots: 0, packs: 0, blobs: 0, packsRead: 0, bytesRead: 0, errors: [], unreferencedPacks: [], damagedBlobs: [], affected: [], durationMs: 0 };
  const index = await repo.loadIndex(options.signal);
  const snapshots = await repo.listSnapshots(options.signal);
  report.snapshots = snapshots.length;
  report.blobs = index.blobCount;
  const packFiles = new Map((await repo.backend.list('data', options.signal)).map((f) => [f.name, f.size]));
  report.packs = packFiles.size;
  checkPacksExist(index, packFiles, report);
  const damaged = new Set<string>();
  const selected = options.readData || options.readDataSubset ? selectPacks(index.packIds, options.readDataSubset) : undefined;
  // Decode workers start while the trees are checked; a small read decodes on this thread.
  const pool = selected ? new DecodePool(repo.master, selected.reduce((sum, p) => sum + (packFiles.get(p) ?? 0), 0) < INLINE_BYTES ? 0 : options.workers) : undefined;
  pool?.warm();
  try {
    await checkTrees(repo, index, snapshots, report, damaged, options.signal);
    if (selected && pool) await readPacks(repo, index, selected, packFiles, pool, report, damaged, options);
  } finally {
    await pool?.close();
  }
  report.damagedBlobs = [...damaged];
  if (damaged.size > 0) report.affected = await affectedFiles(repo, index, snapshots, damaged, options.signal);
  report.ok = report.errors.length === 0;
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

function checkPacksExist(index: MasterIndex, packFiles: Map<string, number>, report: CheckReport): void {
  for (const pack of index.packIds) if (!packFiles.has(pack)) report.errors.push(`pack ${pack.slice(0, 12)} is named by an index but missing`);
  for (const pack of packFiles.keys()) if (!index.hasPack(pack)) report.unreferencedPacks.push(pack);
}

async function checkTrees(repo: Repository, index: MasterIndex, snapshots: SnapshotRef[], report: CheckReport, damaged: Set<string>, signal?: AbortSignal): Promise<void> {
  const seen = new Set<string>();
  const visit = async (tree: string, where: string): Promise<void> => {
    if (seen.has(tree)) return;
    seen.add(tree);
    let nodes;
    try {
      nodes = (await repo.loadTree(index, tree, signal)).nodes;
    } catch (err) {
      report.errors.push(`tree ${tree.slice(0, 12)} (${where}): ${errorMessage(err)}`);
      damaged.add(tree);
      return;
    }
    for (const node of nodes) {
      for (const id of node.content ?? []) if (!index.has(id)) {
        report.errors.push(`${where}/${node.name}: blob ${id.slice(0, 12)} is missing`);
        damaged.add(id);
      }
      if (node.subtree) await visit(node.subtree, `${where}/${node.name}`);
    }
  };
  for (const s of snapshots) await visit(s.snapshot.tree, `snapshot ${s.id.slice(0, 8)}:`);
}

/** Packs are read in pieces of about this size, so a check holds a few MiB per pack, never whole packs. */
const PIECE_BYTES = 2 * 1024 * 1024;
/** Bytes read but not yet verified. */
const READ_BUDGET = 12 * 1024 * 1024;
/** Below this, starting decode threads costs more than it saves. */
const INLINE_BYTES = 4 * 1024 * 1024;

interface Piece { start: number; end: number; blobs: PackEntry[] }

/**
 * Reads every selected pack in order, piece by piece: this thread hashes the
 * pack (its name is its SHA-256) and checks its header, while the decode
 * workers decrypt and authenticate the blobs of each piece. Reading the next
 * pieces overlaps with verifying the last ones; the byte budget bounds what is
 * held in memory.
 */
async function readPacks(repo: Repository, index: MasterIndex, packs: string[], packFiles: Map<string, number>, pool: DecodePool, report: CheckReport, damaged: Set<string>, options: CheckOptions): Promise<void> {
  const budget = new ByteBudget(READ_BUDGET);
  const unreadable = (pack: string, err: unknown): void => {
    if (err instanceof BulwarkError && err.code === 'BACKEND_UNAVAILABLE') throw err;
    report.errors.push(`pack ${pack.slice(0, 12)} cannot be read: ${errorMessage(err)}`);
    for (const b of index.packEntries(pack)) damaged.add(b.id);
  };
  await mapLimit(packs, pool.size + 1, async (pack) => {
    options.signal?.throwIfAborted();
    const size = packFiles.get(pack);
    if (size === undefined) {
      // Missing: reading it says why, as for any other unreadable pack.
      await repo.backend.read('data', pack, undefined, options.signal).then(() => undefined, (err: unknown) => unreadable(pack, err));
      return;
    }
    const hash = createHash('sha256');
    const packErrors: string[] = [];
    const verified: Array<Promise<VerifyResult>> = [];
    let bytes = 0;
    let failed: { err: unknown } | undefined;
    for (const piece of planPieces(index.packEntries(pack), size)) {
      const length = piece.end - piece.start;
      await budget.acquire(length);
      let data: Buffer;
      try {
        data = await repo.backend.read('data', pack, { offset: piece.start, length }, options.signal);
      } catch (err) {
        budget.release(length);
        failed = { err };
        break;
      }
      hash.update(data);
      bytes += data.length;
      // The header is checked here, before the piece moves to a worker.
      if (piece.end >= size) checkHeader(repo, pack, data, bytes, packErrors);
      const blobs = piece.blobs.map((b) => ({ id: b.id, offset: b.offset - piece.start, length: b.length, rawLength: b.rawLength, compressed: b.compressed }));
      verified.push(pool.verify(data, blobs).finally(() => budget.release(length)));
    }
    const results = await Promise.allSettled(verified);
    if (failed) return unreadable(pack, failed.err);
    report.bytesRead += bytes;
    if (hash.digest('hex') !== pack) report.errors.push(`pack ${pack.slice(0, 12)} does not match its name: its content changed`);
    report.errors.push(...packErrors);
    for (const result of results) {
      if (result.status === 'rejected') throw result.reason;
      for (const f of result.value.failures) {
        report.errors.push(`pack ${pack.slice(0, 12)}: ${f.message}`);
        damaged.add(f.id);
      }
    }
    report.packsRead++;
    options.onProgress?.({ packs: report.packsRead, totalPacks: packs.length, bytes: report.bytesRead });
  });
}

/** `tail` is the end of a pack of `packLength` bytes (read so far). */
function checkHeader(repo: Repository, pack: string, tail: Buffer, packLength: number, errors: string[]): void {
  try {
    decodePackHeader(repo.master.encryption, tail, pack, packLength);
  } catch (err) {
    errors.push(errorMessage(err));
  }
}

/**
 * Consecutive pieces that cover [0, size) (and any blob the index places
 * past the end), each holding whole blobs; the last one holds the header.
 */
function planPieces(entries: readonly PackEntry[], size: number): Piece[] {
  const pieces: Piece[] = [];
  let piece: Piece = { start: 0, end: 0, blobs: [] };
  for (const entry of [...entries].sort((a, b) => a.offset - b.offset)) {
    const end = entry.offset + entry.length;
    if (piece.blobs.length > 0 && end - piece.start > PIECE_BYTES && entry.offset >= piece.end) {
      pieces.push(piece);
      piece = { start: piece.end, end: piece.end, blobs: [] };
    }
    piece.blobs.push(entry);
    piece.end = Math.max(piece.end, end);
  }
  piece.end = Math.max(piece.end, size);
  pieces.push(piece);
  return pieces;
}

export function selectPacks(packs: string[], subset: string | undefined): string[] {
  const sorted = [...packs].sort();
  if (!subset) return sorted;
  const fraction = /^(\d+)\/(\d+)$/.exec(subset);
  if (fraction) {
    const [n, of] = [Number(fraction[1]), Number(fraction[2])];
    if (n < 1 || n > of) throw new BulwarkError('USAGE', `--read-data-subset ${subset}: n must be between 1 and ${of}`, { hint: 'e.g. 1/5 reads the first fifth; run 2/5 ... 5/5 on later days to cover everything' });
    return sorted.filter((p) => parseInt(p.slice(0, 8), 16) % of === n - 1);
  }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(subset);
  if (percent && Number(percent[1]) > 0 && Number(percent[1]) <= 100) return sorted.filter(() => Math.random() * 100 < Number(percent[1]));
  throw new BulwarkError('USAGE', `--read-data-subset "${subset}" is not understood`, { hint: 'use n/m (e.g. 1/5) or a percentage (e.g. 10%)' });
}
