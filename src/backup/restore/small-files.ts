import { join } from 'node:path';
import { BulwarkError } from '../../core/errors.js';
import type { ByteBudget } from '../repo/byte-budget.js';
import type { DecodePool } from '../repo/decode-pool.js';
import type { MasterIndex } from '../repo/master-index.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import type { TreeNode } from '../repo/types.js';
import type { SmallFile } from '../repo/write-files.js';
import type { PlannedNode } from './plan.js';

/** A file of at most one blob this size is restored in a batch (see repo/write-files.ts). */
const SMALL_BLOB = 1024 * 1024;
/** One read of a pack serves every small file whose blob lies within this span... */
const MAX_BATCH_READ = 1024 * 1024;
/** ...skipping over at most this much between two of them (tree blobs, blobs of other files). */
const MAX_GAP = 256 * 1024;
/** Empty files (no blob) per batch. */
const EMPTY_BATCH = 256;
/** Batches read and written at once; with the byte budget this bounds memory. */
const BATCHES_IN_FLIGHT = 3;

interface Located { file: SmallFile; pack: string; offset: number; length: number }
export interface Batch { pack: string | undefined; offset: number; length: number; files: SmallFile[] }

export interface SmallFilesContext { repo: Repository; index: MasterIndex; pool: DecodePool; budget: ByteBudget; signal: AbortSignal | undefined; target: string; chown: boolean }
export interface SmallFilesOutcome { files: number; bytes: number; errors: Array<{ path: string; reason: string }> }

/** A regular file of one small blob (or none), and not one of several hard links: restored in a batch. */
export function isSmallFile(node: TreeNode, index: MasterIndex): boolean {
  if (node.type !== 'file' || (node.links ?? 1) > 1) return false;
  const content = node.content ?? [];
  if (content.length === 0) return true;
  if (content.length > 1) return false;
  const at = index.get(content[0]!);
  return at !== undefined && at.length <= SMALL_BLOB;
}

/**
 * Groups small files by where their blobs lie: files whose blobs are near one
 * another in a pack (as a backup writes a directory's files) share one read.
 */
export function planBatches(index: MasterIndex, entries: readonly PlannedNode[], target: string): Batch[] {
  const located: Located[] = [];
  const empty: SmallFile[] = [];
  for (const entry of entries) {
    const file = smallFile(entry.node, join(target, entry.path));
    const id = entry.node.content?.[0];
    if (id === undefined) {
      empty.push(file);
      continue;
    }
    const at = index.get(id);
    if (!at) throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} is in no index`, { hint: 'run `bulwark backup check` to see what it affects' });
    file.blob = { id, offset: 0, length: at.length, rawLength: at.rawLength, compressed: at.compressed };
    located.push({ file, pack: at.pack, offset: at.offset, length: at.length });
  }
  located.sort((a, b) => (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : a.offset - b.offset));
  const batches: Batch[] = [];
  let batch: Batch | undefined;
  for (const l of located) {
    const end = l.offset + l.length;
    const fits = batch && batch.pack === l.pack && l.offset <= batch.offset + batch.length + MAX_GAP && end - batch.offset <= MAX_BATCH_READ;
    if (!fits) batches.push((batch = { pack: l.pack, offset: l.offset, length: 0, files: [] }));
    batch!.length = Math.max(batch!.length, end - batch!.offset);
    l.file.blob!.offset = l.offset - batch!.offset;
    batch!.files.push(l.file);
  }
  for (let i = 0; i < empty.length; i += EMPTY_BATCH) batches.push({ pack: undefined, offset: 0, length: 0, files: empty.slice(i, i + EMPTY_BATCH) });
  return batches;
}

/** Restores the batches: reads on this thread, decoding and writing in the decode workers. */
export async function restoreSmallFiles(ctx: SmallFilesContext, entries: readonly PlannedNode[], onBytes: (n: number, files: number) => void): Promise<SmallFilesOutcome> {
  const outcome: SmallFilesOutcome = { files: 0, bytes: 0, errors: [] };
  const batches = planBatches(ctx.index, entries, ctx.target);
  const entryPath = new Map(entries.map((e) => [join(ctx.target, e.path), e.path]));
  await mapLimit(batches, BATCHES_IN_FLIGHT, (batch) => ctx.budget.use(batch.length, async () => {
    ctx.signal?.throwIfAborted();
    const data = batch.pack === undefined ? Buffer.alloc(0) : await ctx.repo.backend.read('data', batch.pack, { offset: batch.offset, length: batch.length }, ctx.signal);
    const result = await ctx.pool.writeFiles(data, batch.files, ctx.chown);
    outcome.files += result.written;
    outcome.bytes += result.bytes;
    for (const failure of result.failures) outcome.errors.push({ path: entryPath.get(failure.path) ?? failure.path, reason: failure.reason });
    onBytes(result.bytes, result.written);
  }));
  return outcome;
}

function smallFile(node: TreeNode, path: string): SmallFile {
  return { path, mode: node.mode, uid: node.uid, gid: node.gid, mtime: Number(BigInt(node.mtimeNs) / 1000n) / 1e6 };
}
