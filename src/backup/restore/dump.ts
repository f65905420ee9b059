import type { Writable } from 'node:stream';
import { BulwarkError } from '../../core/errors.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';
import { walkSnapshot } from './plan.js';

/** Writes one file of a snapshot to a stream (standard output): `bulwark restore --stdout`. */
export async function dumpFile(repo: Repository, ref: SnapshotRef, path: string | undefined, out: Writable, signal?: AbortSignal): Promise<number> {
  const index = await repo.loadIndex(signal);
  const nodes = await walkSnapshot(repo, index, ref.snapshot.tree, path ? [path] : [], signal);
  const files = nodes.filter((n) => n.node.type === 'file' && (!path || n.path === '/' + path.split('/').filter(Boolean).join('/')));
  if (files.length !== 1) {
    throw new BulwarkError('USAGE', files.length === 0 ? `no file ${path ?? ''} in snapshot ${ref.id.slice(0, 8)}` : `snapshot ${ref.id.slice(0, 8)} holds ${files.length} files`, {
      hint: 'name exactly one file with --include PATH to write it to standard output; `bulwark backup ls SNAPSHOT` lists them',
    });
  }
  let bytes = 0;
  for (const id of files[0]!.node.content ?? []) {
    const data = await repo.loadBlob(index, id, signal);
    bytes += data.length;
    if (!out.write(data)) await new Promise((resolve) => out.once('drain', resolve));
  }
  return bytes;
}
