import { BulwarkError } from '../../core/errors.js';
import { decodeBlob, encodeBlob } from '../repo/blob-codec.js';
import { BlobWriter } from '../repo/blob-writer.js';
import { withLock } from '../repo/lock.js';
import type { MasterIndex } from '../repo/master-index.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot, SnapshotRef } from '../repo/types.js';

export interface CopyOptions {
  /** Snapshot ids (or prefixes) to copy; all by default. */
  snapshots?: string[];
  signal?: AbortSignal;
  onProgress?: (p: { snapshot: string; blobs: number; bytes: number }) => void;
}

export interface CopyReport { copied: Array<{ source: string; copy: string }>; alreadyThere: number; blobs: number; bytes: number; durationMs: number }

/**
 * Copies snapshots that the destination lacks, moving only blobs it does not
 * have. Both repositories must share the content key and chunker (`init
 * --copy-from`); a run that dies is resumed by the next (index checkpoints).
 * Each copied snapshot is verified in the destination before it is recorded.
 */
export async function copySnapshots(source: Repository, dest: Repository, options: CopyOptions = {}): Promise<CopyReport> {
  if (!source.master.mac.equals(dest.master.mac) || JSON.stringify(source.config.chunker) !== JSON.stringify(dest.config.chunker)) {
    throw new BulwarkError('USAGE', `${dest.backend.location} does not share the content key of ${source.backend.location}`, {
      hint: `create the copy with \`bulwark backup init -r ${dest.backend.location} --copy-from ${source.backend.location}\` so that blobs keep their ids`,
    });
  }
  const started = performance.now();
  return withLock(source, { exclusive: false, operation: 'copy (source)', signal: options.signal }, () =>
    withLock(dest, { exclusive: false, operation: 'copy', signal: options.signal }, async () => {
      const report: CopyReport = { copied: [], alreadyThere: 0, blobs: 0, bytes: 0, durationMs: 0 };
      const [srcIndex, destIndex] = await Promise.all([source.loadIndex(options.signal), dest.loadIndex(options.signal)]);
      const present = new Set((await dest.listSnapshots(options.signal)).map((s) => s.snapshot.original ?? s.id));
      for (const ref of await selected(source, options)) {
        if (present.has(ref.id)) {
          report.alreadyThere++;
          continue;
        }
        const copy = await copyOne(source, srcIndex, dest, destIndex, ref, report, options);
        report.copied.push({ source: ref.id, copy });
      }
      report.durationMs = Math.round(performance.now() - started);
      return report;
    }),
  );
}

async function selected(source: Repository, options: CopyOptions): Promise<SnapshotRef[]> {
  if (!options.snapshots?.length) return source.listSnapshots(options.signal);
  return Promise.all(options.snapshots.map((id) => source.findSnapshot(id, undefined, options.signal)));
}

async function copyOne(source: Repository, srcIndex: MasterIndex, dest: Repository, destIndex: MasterIndex, ref: SnapshotRef, report: CopyReport, options: CopyOptions): Promise<string> {
  const writer = new BlobWriter(dest, destIndex, { signal: options.signal });
  const copyBlob = async (id: string): Promise<void> => {
    if (writer.has(id)) return;
    const at = srcIndex.get(id);
    if (!at) throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} of snapshot ${ref.id.slice(0, 8)} is missing in ${source.backend.location}`, { hint: 'run `bulwark backup check` on the source' });
    const sealed = await source.backend.read('data', at.pack, { offset: at.offset, length: at.length }, options.signal);
    const data = decodeBlob(source.master, id, sealed, at.compressed);
    await writer.add(encodeBlob(dest.master, at.type, data, 'auto', id));
    report.blobs++;
    report.bytes += data.length;
    options.onProgress?.({ snapshot: ref.id, blobs: report.blobs, bytes: report.bytes });
  };
  const visit = async (tree: string): Promise<void> => {
    for (const node of (await source.loadTree(srcIndex, tree, options.signal)).nodes) {
      for (const id of node.content ?? []) await copyBlob(id);
      if (node.subtree) await visit(node.subtree);
    }
    await copyBlob(tree);
  };
  await visit(ref.snapshot.tree);
  await writer.flush();
  await verifyCopied(dest, destIndex, ref.snapshot.tree, options.signal);
  const snapshot: Snapshot = { ...ref.snapshot, original: ref.snapshot.original ?? ref.id };
  return dest.saveFile('snapshots', snapshot, options.signal);
}

/** Every tree of the copy reads back and authenticates, and every content blob is indexed in the destination. */
async function verifyCopied(dest: Repository, index: MasterIndex, tree: string, signal?: AbortSignal): Promise<void> {
  for (const node of (await dest.loadTree(index, tree, signal)).nodes) {
    const missing = node.content?.find((id) => !index.has(id));
    if (missing) throw new BulwarkError('REPO_CORRUPT', `the copy of ${node.name} lacks blob ${missing.slice(0, 12)}`, { hint: 'run the copy again; it resumes' });
    if (node.subtree) await verifyCopied(dest, index, node.subtree, signal);
  }
}
