import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobId } from '../repo/crypto.js';
import type { MasterIndex } from '../repo/master-index.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';
import { walkSnapshot } from './plan.js';
import { restoreSnapshot, type RestoreOptions } from './restorer.js';

export interface RestoreTestReport {
  ok: boolean;
  snapshot: string;
  snapshotTime: string;
  /** How long the restore took: the RTO this backup gives for this data, on this machine. */
  restoreMs: number;
  verifyMs: number;
  /** Age of the restored point at the time of the test: the RPO if disaster struck now. */
  restoredPointAgeMs: number;
  files: number;
  bytes: number;
  mismatches: Array<{ path: string; reason: string }>;
}

/**
 * The monthly restore test: restore into a temporary directory, then re-read
 * every restored file and check each byte range against the content address
 * the snapshot recorded for it. Nothing is trusted that was not read back.
 */
export async function testRestore(repo: Repository, ref: SnapshotRef, options: Pick<RestoreOptions, 'signal' | 'onProgress'> & { keep?: boolean; into?: string } = {}): Promise<RestoreTestReport & { target: string }> {
  const target = options.into ?? await mkdtemp(join(tmpdir(), 'bulwark-restore-test-'));
  try {
    const summary = await restoreSnapshot(repo, ref, { target, signal: options.signal, onProgress: options.onProgress });
    const verifyStarted = performance.now();
    const index = await repo.loadIndex(options.signal);
    const nodes = await walkSnapshot(repo, index, ref.snapshot.tree, [], options.signal);
    const mismatches = [...summary.errors];
    await mapLimit(nodes.filter((n) => n.node.type === 'file'), 4, async (entry) => {
      const reason = await verifyFile(repo, index, join(target, entry.path), entry.node.content ?? [], entry.node.size ?? 0);
      if (reason) mismatches.push({ path: entry.path, reason });
    });
    return {
      ok: mismatches.length === 0, snapshot: ref.id, snapshotTime: ref.snapshot.time, target,
      restoreMs: summary.durationMs, verifyMs: Math.round(performance.now() - verifyStarted),
      restoredPointAgeMs: Date.now() - Date.parse(ref.snapshot.time),
      files: summary.files, bytes: summary.bytes, mismatches,
    };
  } finally {
    if (!options.keep && !options.into) await rm(target, { recursive: true, force: true });
  }
}

async function verifyFile(repo: Repository, index: MasterIndex, path: string, content: string[], size: number): Promise<string | undefined> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return 'missing after restore';
  try {
    let position = 0;
    for (const id of content) {
      const length = index.get(id)?.rawLength ?? 0;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      if (bytesRead !== length || blobId(repo.master.mac, buffer).toString('hex') !== id) return `bytes ${position}-${position + length} differ from the backup`;
      position += length;
    }
    const { size: actual } = await handle.stat();
    return actual === size ? undefined : `size ${actual}, expected ${size}`;
  } finally {
    await handle.close();
  }
}
