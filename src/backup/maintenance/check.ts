import { BulwarkError, errorMessage } from '../../core/errors.js';
import { decodeBlobAsync, sha256Async } from '../repo/async-codec.js';
import type { MasterIndex } from '../repo/master-index.js';
import { decodePackHeader } from '../repo/pack.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';
import { affectedFiles, type Affected } from './affected.js';

export interface CheckOptions {
  readData?: boolean;
  /** Read only a part of the packs: `1/5` (the first fifth of a stable order) or `20%` (a random fifth). */
  readDataSubset?: string;
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
  await checkTrees(repo, index, snapshots, report, damaged, options.signal);
  if (options.readData || options.readDataSubset) await readPacks(repo, index, selectPacks(index.packIds, options.readDataSubset), report, damaged, options);
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

async function readPacks(repo: Repository, index: MasterIndex, packs: string[], report: CheckReport, damaged: Set<string>, options: CheckOptions): Promise<void> {
  await mapLimit(packs, 4, async (pack) => {
    options.signal?.throwIfAborted();
    const blobs = index.packEntries(pack);
    let bytes: Buffer;
    try {
      bytes = await repo.backend.read('data', pack, undefined, options.signal);
    } catch (err) {
      if (err instanceof BulwarkError && err.code === 'BACKEND_UNAVAILABLE') throw err;
      report.errors.push(`pack ${pack.slice(0, 12)} cannot be read: ${errorMessage(err)}`);
      for (const b of blobs) damaged.add(b.id);
      return;
    }
    report.packsRead++;
    report.bytesRead += bytes.length;
    options.onProgress?.({ packs: report.packsRead, totalPacks: packs.length, bytes: report.bytesRead });
    if ((await sha256Async(bytes)) !== pack) report.errors.push(`pack ${pack.slice(0, 12)} does not match its name: its content changed`);
    verifyHeader(repo, pack, bytes, report);
    await Promise.all(blobs.map(async (blob) => {
      try {
        await decodeBlobAsync(repo.master, blob.id, bytes.subarray(blob.offset, blob.offset + blob.length), blob.compressed);
      } catch (err) {
        report.errors.push(`pack ${pack.slice(0, 12)}: ${errorMessage(err)}`);
        damaged.add(blob.id);
      }
    }));
  });
}

function verifyHeader(repo: Repository, pack: string, bytes: Buffer, report: CheckReport): void {
  try {
    decodePackHeader(repo.master.encryption, bytes, pack);
  } catch (err) {
    report.errors.push(errorMessage(err));
  }
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
