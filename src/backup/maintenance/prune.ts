import { BulwarkError, errorMessage } from '../../core/errors.js';
import { BlobWriter } from '../repo/blob-writer.js';
import { RepoLock, removeStaleLocks, withLock } from '../repo/lock.js';
import { encodeIndex, MasterIndex, type BlobLocation } from '../repo/master-index.js';
import type { PackEntry } from '../repo/pack.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import { usedBlobs } from './used-blobs.js';

export interface PruneOptions {
  /** Repack a pack when more than this share of its bytes is unused (default 0.3). */
  repackThreshold?: number;
  dryRun?: boolean;
  /** How long the delete phase waits for running backups to finish before deferring (default 60 s). */
  lockWaitMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

export interface PruneReport {
  packsBefore: number;
  packsDeleted: number;
  packsRepacked: number;
  bytesFreed: number;
  blobsKept: number;
  blobsRemoved: number;
  staleLocksRemoved: number;
  /** The delete phase did not run because a backup held the repository; nothing was lost, the next prune finishes it. */
  deferred?: string;
  durationMs: number;
}

/**
 * Prune runs in two phases so that it never blocks backups for long:
 *  1. under a shared lock (backups keep running): find unused data and repack
 *     partly used packs into new ones, with their own index;
 *  2. under an exclusive lock, usually held for seconds: re-read the snapshot
 *     list (backups may have finished meanwhile), write one new index of what
 *     is still needed, then delete old indexes, then unneeded packs.
 * Every step leaves a valid repository if killed: data is only deleted after
 * a durable index that does not need it replaced the ones that did.
 */
export async function pruneRepository(repo: Repository, options: PruneOptions = {}): Promise<PruneReport> {
  const started = performance.now();
  const report: PruneReport = { packsBefore: 0, packsDeleted: 0, packsRepacked: 0, bytesFreed: 0, blobsKept: 0, blobsRemoved: 0, staleLocksRemoved: await removeStaleLocks(repo, options.signal), durationMs: 0 };
  await withLock(repo, { exclusive: false, operation: 'prune (repack)', signal: options.signal }, () => repackPhase(repo, options, report));
  if (!options.dryRun) {
    let lock: RepoLock;
    try {
      lock = await RepoLock.acquire(repo, { exclusive: true, operation: 'prune (delete)', waitMs: options.lockWaitMs ?? 60_000, signal: options.signal });
    } catch (err) {
      if (!(err instanceof BulwarkError && err.code === 'REPO_LOCKED')) throw err;
      report.deferred = errorMessage(err);
      report.durationMs = Math.round(performance.now() - started);
      return report;
    }
    try {
      await deletePhase(repo, options, report);
    } finally {
      await lock.release();
    }
  }
  report.durationMs = Math.round(performance.now() - started);
  return report;
}

async function repackPhase(repo: Repository, options: PruneOptions, report: PruneReport): Promise<void> {
  const index = await repo.loadIndex(options.signal);
  const used = await usedBlobs(repo, index, await repo.listSnapshots(options.signal), options.signal);
  const packs = groupByPack(index);
  report.packsBefore = packs.size;
  const threshold = options.repackThreshold ?? 0.3;
  const toRepack = [...packs].filter(([, blobs]) => {
    const total = blobs.reduce((s, b) => s + b.length, 0);
    const unused = blobs.filter((b) => !used.has(b.id)).reduce((s, b) => s + b.length, 0);
    return unused > 0 && unused < total && unused / total > threshold;
  });
  if (options.dryRun || toRepack.length === 0) return;
  const writer = new BlobWriter(repo, new MasterIndex(), { signal: options.signal });
  let done = 0;
  for (const [pack, blobs] of toRepack) {
    const bytes = await repo.backend.read('data', pack, undefined, options.signal);
    for (const blob of blobs.filter((b) => used.has(b.id))) {
      await writer.add({ id: blob.id, type: blob.type, rawLength: blob.rawLength, compressed: blob.compressed, sealed: Buffer.from(bytes.subarray(blob.offset, blob.offset + blob.length)) });
    }
    options.onProgress?.({ phase: 'repack', done: ++done, total: toRepack.length });
  }
  await writer.flush();
  report.packsRepacked = toRepack.length;
}

async function deletePhase(repo: Repository, options: PruneOptions, report: PruneReport): Promise<void> {
  const indexFiles = (await repo.backend.list('index', options.signal)).map((f) => f.name);
  const index = await repo.loadIndex(options.signal);
  const used = await usedBlobs(repo, index, await repo.listSnapshots(options.signal), options.signal);
  const packs = groupByPack(index);
  const keep = choosePacks(packs, used);
  const kept: Array<{ id: string; entries: PackEntry[] }> = [...keep].map((id) => ({ id, entries: packs.get(id)! }));
  report.blobsKept = kept.reduce((s, p) => s + p.entries.length, 0);
  report.blobsRemoved = [...packs].filter(([id]) => !keep.has(id)).reduce((s, [, b]) => s + b.length, 0);
  const fresh = await repo.saveFile('index', encodeIndex(kept), options.signal);
  await mapLimit(indexFiles.filter((f) => f !== fresh), 8, (f) => repo.backend.remove('index', f, options.signal));
  const files = await repo.backend.list('data', options.signal);
  const doomed = files.filter((f) => !keep.has(f.name));
  let done = 0;
  await mapLimit(doomed, 8, async (f) => {
    await repo.backend.remove('data', f.name, options.signal);
    report.bytesFreed += f.size;
    options.onProgress?.({ phase: 'delete', done: ++done, total: doomed.length });
  });
  report.packsDeleted = doomed.length;
}

/** Packs that hold at least one used blob not found in a pack already chosen; packs written by the repack win over their sources. */
function choosePacks(packs: Map<string, BlobLocation[]>, used: Set<string>): Set<string> {
  const keep = new Set<string>();
  const covered = new Set<string>();
  const order = [...packs].sort(([, a], [, b]) => usedShare(b, used) - usedShare(a, used));
  for (const [id, blobs] of order) {
    if (!blobs.some((b) => used.has(b.id) && !covered.has(b.id))) continue;
    keep.add(id);
    for (const b of blobs) covered.add(b.id);
  }
  return keep;
}

function usedShare(blobs: BlobLocation[], used: Set<string>): number {
  return blobs.filter((b) => used.has(b.id)).length / Math.max(1, blobs.length);
}

function groupByPack(index: MasterIndex): Map<string, BlobLocation[]> {
  return new Map(index.packIds.map((pack) => [pack, index.packEntries(pack).map((e) => ({ ...e, pack }))]));
}
