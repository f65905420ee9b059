import type { Readable } from 'node:stream';
import { BlobWriter } from '../repo/blob-writer.js';
import { withLock } from '../repo/lock.js';
import type { Repository } from '../repo/repository.js';
import type { Snapshot, SnapshotRef } from '../repo/types.js';
import { Archiver, absolutePaths, snapshotBase, type ArchiveOptions } from './archiver.js';
import { ChunkPool } from './chunk-pool.js';
import { archiveStream } from './stream.js';

export interface BackupOptions extends ArchiveOptions {
  tags?: string[];
  source?: Snapshot['source'];
  meta?: Record<string, unknown>;
  /** A snapshot id to compare against, `false` for none; by default the latest one of the same paths on this host. */
  parent?: string | false;
  lockWaitMs?: number;
}

export interface BackupResult extends SnapshotRef {
  /** Files that could not be read: the snapshot is partial. */
  partial: boolean;
}

export async function backupPaths(repo: Repository, paths: readonly string[], options: BackupOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  const abs = absolutePaths(paths);
  return withLock(repo, { exclusive: false, operation: 'backup', waitMs: options.lockWaitMs, signal: options.signal }, async () => {
    const index = await repo.loadIndex(options.signal);
    const parent = await findParent(repo, abs, options);
    const writer = new BlobWriter(repo, index, { compression: options.compression, packSize: options.packSize, signal: options.signal });
    let archiver: Archiver | undefined;
    const pool = new ChunkPool(
      { encryption: repo.master.encryption, mac: repo.master.mac, chunkerSeed: repo.master.chunker, chunker: repo.config.chunker, compression: options.compression ?? 'auto' },
      (blob) => writer.add(blob),
      (n) => archiver?.countBytes(n),
      options.workers,
    );
    try {
      pool.setKnown(() => [...index.entries()].filter((e) => e.type === 'data').map((e) => e.id));
      archiver = new Archiver(repo, index, writer, pool, options);
      const tree = await archiver.archive(abs, parent?.snapshot.tree);
      await writer.flush();
      const summary = { ...archiver.summary, addedBytes: writer.stats.rawBytes, storedBytes: writer.stats.storedBytes, durationMs: Math.round(performance.now() - started) };
      const snapshot: Snapshot = { ...snapshotBase(abs, options.source ?? { kind: 'paths' }, options.tags ?? [], parent), tree, summary, ...(options.meta ? { meta: options.meta } : {}) };
      const id = await repo.saveFile('snapshots', snapshot, options.signal);
      return { id, snapshot, partial: summary.skipped.length > 0 };
    } finally {
      await pool.close();
    }
  });
}

export async function backupStream(repo: Repository, input: Readable, filename: string, options: BackupOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  return withLock(repo, { exclusive: false, operation: 'backup', waitMs: options.lockWaitMs, signal: options.signal }, async () => {
    const index = await repo.loadIndex(options.signal);
    const writer = new BlobWriter(repo, index, { compression: options.compression, packSize: options.packSize, signal: options.signal });
    const { tree, size } = await archiveStream(repo, writer, input, filename, options);
    await writer.flush();
    const summary = { files: 1, dirs: 0, bytes: size, addedBytes: writer.stats.rawBytes, storedBytes: writer.stats.storedBytes, durationMs: Math.round(performance.now() - started), unchangedFiles: 0, skipped: [] };
    const snapshot: Snapshot = { ...snapshotBase(['/' + filename], options.source ?? { kind: 'stdin', name: filename }, options.tags ?? [], undefined), tree, summary, ...(options.meta ? { meta: options.meta } : {}) };
    const id = await repo.saveFile('snapshots', snapshot, options.signal);
    return { id, snapshot, partial: false };
  });
}

async function findParent(repo: Repository, paths: string[], options: BackupOptions): Promise<SnapshotRef | undefined> {
  if (options.parent === false) return undefined;
  if (typeof options.parent === 'string') return repo.findSnapshot(options.parent, undefined, options.signal);
  const key = JSON.stringify(paths);
  const base = snapshotBase(paths, { kind: 'paths' }, [], undefined);
  const candidates = (await repo.listSnapshots(options.signal)).filter((s) => s.snapshot.hostname === base.hostname && JSON.stringify(s.snapshot.paths) === key);
  return candidates.at(-1);
}
