import { execFile } from 'node:child_process';
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import type { MasterIndex } from '../repo/master-index.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import type { SnapshotRef, TreeNode } from '../repo/types.js';
import { walkSnapshot, type PlannedNode } from './plan.js';

export interface RestoreOptions {
  target: string;
  include?: readonly string[];
  /** Restore what is under this snapshot path straight into target (e.g. a PostgreSQL data directory). */
  root?: string;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: { files: number; bytes: number; totalBytes: number; currentPath?: string }) => void;
}

export interface RestoreSummary { files: number; dirs: number; bytes: number; durationMs: number; errors: Array<{ path: string; reason: string }> }

const isRoot = process.getuid?.() === 0;

export async function restoreSnapshot(repo: Repository, ref: SnapshotRef, options: RestoreOptions): Promise<RestoreSummary> {
  const started = performance.now();
  const index = await repo.loadIndex(options.signal);
  const root = options.root?.replace(/\/+$/, '');
  const walked = await walkSnapshot(repo, index, ref.snapshot.tree, root ? [root] : options.include ?? [], options.signal);
  const nodes = root ? walked.filter((n) => n.path.startsWith(root + '/')).map((n) => ({ ...n, path: n.path.slice(root.length) })) : walked;
  const summary: RestoreSummary = { files: 0, dirs: 0, bytes: 0, durationMs: 0, errors: [] };
  const totalBytes = nodes.reduce((sum, n) => sum + (n.node.type === 'file' ? n.node.size ?? 0 : 0), 0);
  const report = (currentPath?: string): void => options.onProgress?.({ files: summary.files, bytes: summary.bytes, totalBytes, currentPath });
  await mkdir(options.target, { recursive: true });
  for (const entry of nodes.filter((n) => n.node.type === 'dir')) await mkdir(join(options.target, entry.path), { recursive: true });
  const links = new Map<string, Promise<string>>();
  await mapLimit(nodes.filter((n) => n.node.type !== 'dir'), options.concurrency ?? 8, async (entry) => {
    const path = join(options.target, entry.path);
    try {
      await restoreEntry(repo, index, entry.node, path, links, (n) => { summary.bytes += n; report(entry.path); }, options.signal);
      if (entry.node.type === 'file') summary.files++;
    } catch (err) {
      if (err instanceof BulwarkError || (err as Error).name === 'AbortError') throw err;
      summary.errors.push({ path: entry.path, reason: errorMessage(err) });
    }
  });
  // Directories last and deepest first: writing their entries changed their mtimes.
  for (const entry of nodes.filter((n) => n.node.type === 'dir').sort((a, b) => b.depth - a.depth)) {
    await applyMetadata(join(options.target, entry.path), entry.node);
    summary.dirs++;
  }
  summary.durationMs = Math.round(performance.now() - started);
  report();
  return summary;
}

async function restoreEntry(repo: Repository, index: MasterIndex, node: TreeNode, path: string, links: Map<string, Promise<string>>, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  await rm(path, { force: true });
  if (node.type === 'file') {
    const key = node.links && node.links > 1 ? `${node.device}:${node.inode}` : undefined;
    const first = key ? links.get(key) : undefined;
    if (first) {
      await link(await first, path);
      return;
    }
    const done = restoreFile(repo, index, node, path, onBytes, signal).then(() => path);
    if (key) links.set(key, done);
    await done;
  } else if (node.type === 'symlink') {
    await symlink(node.linkTarget ?? '', path);
  } else if (node.type === 'fifo') {
    await promisify(execFile)('mkfifo', [path]); // Node has no mkfifo
  } else {
    return; // sockets and devices are recorded but not recreated
  }
  await applyMetadata(path, node);
}

async function restoreFile(repo: Repository, index: MasterIndex, node: TreeNode, path: string, onBytes: (n: number) => void, signal?: AbortSignal): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    let position = 0;
    for (const id of node.content ?? []) {
      const data = await repo.loadBlob(index, id, signal);
      // All-zero chunks become holes: sparse files stay sparse.
      if (!isZero(data)) await writeAll(handle, data, position);
      position += data.length;
      onBytes(data.length);
    }
    await handle.truncate(position);
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) written += (await handle.write(data, written, data.length - written, position + written)).bytesWritten;
}

const ZERO = Buffer.alloc(1024 * 1024);
function isZero(data: Buffer): boolean {
  for (let at = 0; at < data.length; at += ZERO.length) {
    const part = data.subarray(at, at + ZERO.length);
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
}

async function applyMetadata(path: string, node: TreeNode): Promise<void> {
  if (isRoot) await lchown(path, node.uid, node.gid).catch(() => undefined);
  if (node.type !== 'symlink') await chmod(path, node.mode);
  const mtime = Number(BigInt(node.mtimeNs) / 1000n) / 1e6;
  await lutimes(path, mtime, mtime);
}

export type { PlannedNode };
