import { lstat, readdir, readlink } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import type { CompressionMode } from '../repo/blob-codec.js';
import { BlobWriter } from '../repo/blob-writer.js';
import type { MasterIndex } from '../repo/master-index.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import type { Snapshot, SnapshotRef, SnapshotSummary, TreeNode } from '../repo/types.js';
import { ChunkPool } from './chunk-pool.js';
import { excluder } from './excludes.js';
import { nodeFromStat, unchanged } from './node-stat.js';

export interface ArchiveProgress { files: number; bytes: number; storedBytes: number; currentPath?: string }

export interface ArchiveOptions {
  exclude?: readonly string[];
  oneFileSystem?: boolean;
  compression?: CompressionMode;
  packSize?: number;
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ArchiveProgress) => void;
}

interface VirtualDir { path: string; children: Map<string, VirtualDir>; target: boolean }

/** Walks paths and stores them as trees of blobs; the caller holds the lock and saves the snapshot. */
export class Archiver {
  private readonly excluded: (path: string) => boolean;
  readonly summary: SnapshotSummary = { files: 0, dirs: 0, bytes: 0, addedBytes: 0, storedBytes: 0, durationMs: 0, unchangedFiles: 0, skipped: [] };
  private readonly progress: ArchiveProgress = { files: 0, bytes: 0, storedBytes: 0 };

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly writer: BlobWriter,
    private readonly pool: ChunkPool,
    private readonly options: ArchiveOptions,
  ) {
    this.excluded = excluder(options.exclude ?? []);
  }

  countBytes(n: number): void {
    this.progress.bytes += n;
    this.progress.storedBytes = this.writer.stats.storedBytes;
    this.options.onProgress?.(this.progress);
  }

  /** Stores the absolute `paths` under a root tree that mirrors their full paths, as restic does. */
  async archive(paths: string[], parentTree: string | undefined): Promise<string> {
    const root: VirtualDir = { path: '/', children: new Map(), target: false };
    for (const path of paths) addVirtual(root, path);
    const nodes = await this.archiveVirtualChildren(root, parentTree);
    return this.writer.save('tree', Buffer.from(JSON.stringify({ nodes })));
  }

  private async archiveVirtualChildren(dir: VirtualDir, parentTree: string | undefined): Promise<TreeNode[]> {
    const previous = await this.previousChildren(parentTree);
    const nodes: TreeNode[] = [];
    for (const [name, child] of [...dir.children].sort(([a], [b]) => compareNames(a, b))) {
      const node = child.target
        ? await this.archiveEntry(child.path, name, previous.get(name), undefined)
        : await this.archiveIntermediate(child, name, previous.get(name));
      if (node) nodes.push(node);
    }
    return nodes;
  }

  private async archiveIntermediate(dir: VirtualDir, name: string, previous: TreeNode | undefined): Promise<TreeNode | undefined> {
    const stat = await this.statOrSkip(dir.path);
    if (!stat) return undefined;
    const node = nodeFromStat(name, stat);
    const nodes = await this.archiveVirtualChildren(dir, previous?.subtree);
    node.subtree = await this.writer.save('tree', Buffer.from(JSON.stringify({ nodes })));
    return node;
  }

  private async archiveEntry(path: string, name: string, previous: TreeNode | undefined, rootDevice: bigint | undefined): Promise<TreeNode | undefined> {
    this.options.signal?.throwIfAborted();
    if (this.excluded(path)) return undefined;
    const stat = await this.statOrSkip(path);
    if (!stat) return undefined;
    const node = nodeFromStat(name, stat);
    if (node.type === 'file') return this.archiveFile(path, node, previous);
    if (node.type === 'symlink') node.linkTarget = await readlink(path);
    if (node.type === 'dir') {
      const device = rootDevice ?? stat.dev;
      const crosses = this.options.oneFileSystem === true && stat.dev !== device;
      node.subtree = crosses ? await this.writer.save('tree', Buffer.from('{"nodes":[]}')) : await this.archiveDir(path, previous, device);
      this.summary.dirs++;
    }
    return node;
  }

  private async archiveDir(path: string, previous: TreeNode | undefined, device: bigint): Promise<string> {
    let names: string[];
    try {
      names = (await readdir(path)).sort(compareNames);
    } catch (err) {
      this.skip(path, err);
      names = [];
    }
    const before = await this.previousChildren(previous?.type === 'dir' ? previous.subtree : undefined);
    const children = await mapLimit(names, 16, (name) => this.archiveEntry(join(path, name), name, before.get(name), device));
    const nodes = children.filter((n): n is TreeNode => n !== undefined);
    return this.writer.save('tree', Buffer.from(JSON.stringify({ nodes })));
  }

  private async archiveFile(path: string, node: TreeNode, previous: TreeNode | undefined): Promise<TreeNode | undefined> {
    this.progress.currentPath = path;
    if (unchanged(previous, node) && previous!.content!.every((id) => this.index.has(id))) {
      node.content = previous!.content;
      this.summary.unchangedFiles++;
      this.countBytes(node.size ?? 0);
    } else {
      try {
        const chunked = await this.pool.chunkFile(path, node.size ?? 0);
        node.content = chunked.content;
        node.size = chunked.size;
      } catch (err) {
        this.skip(path, err);
        return undefined;
      }
    }
    this.summary.files++;
    this.summary.bytes += node.size ?? 0;
    this.progress.files++;
    return node;
  }

  private async statOrSkip(path: string) {
    try {
      return await lstat(path, { bigint: true });
    } catch (err) {
      this.skip(path, err);
      return undefined;
    }
  }

  private skip(path: string, err: unknown): void {
    // Only file system errors (EACCES, ENOENT, EIO...) skip a file; anything else ends the run.
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof BulwarkError || typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw err;
    this.summary.skipped.push({ path, reason: errorMessage(err) });
  }

  private async previousChildren(tree: string | undefined): Promise<Map<string, TreeNode>> {
    if (!tree || !this.index.has(tree)) return new Map();
    const loaded = await this.repo.loadTree(this.index, tree, this.options.signal);
    return new Map(loaded.nodes.map((n) => [n.name, n]));
  }
}

function addVirtual(root: VirtualDir, path: string): void {
  const parts = path.split('/').filter(Boolean);
  let dir = root;
  parts.forEach((part, i) => {
    const childPath = '/' + parts.slice(0, i + 1).join('/');
    let child = dir.children.get(part);
    if (!child) dir.children.set(part, (child = { path: childPath, children: new Map(), target: false }));
    if (i === parts.length - 1) child.target = true;
    dir = child;
  });
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function absolutePaths(paths: readonly string[]): string[] {
  if (paths.length === 0) throw new BulwarkError('USAGE', 'no path to back up', { hint: 'give one or more files or directories' });
  const abs = [...new Set(paths.map((p) => resolve(p)))].sort();
  // A path inside another is already covered by it.
  return abs.filter((p) => !abs.some((q) => q !== p && (p.startsWith(q + '/') || q === '/')));
}

export function snapshotBase(paths: string[], source: Snapshot['source'], tags: string[], parent: SnapshotRef | undefined): Omit<Snapshot, 'tree' | 'summary'> {
  return { version: 1, time: new Date().toISOString(), hostname: hostname(), username: safeUser(), paths, tags, source, ...(parent ? { parent: parent.id } : {}) };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

