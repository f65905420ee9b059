import { execFile } from 'node:child_process';
import { chmod, lchown, link, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import { ByteBudget } from '../repo/byte-budget.js';
import type { RestoreBlob } from '../repo/decode-jobs.js';
import { DecodePool } from '../repo/decode-pool.js';
import type { MasterIndex } from '../repo/master-index.js';
import { mapLimit, type Repository } from '../repo/repository.js';
import type { SnapshotRef, TreeNode } from '../repo/types.js';
import { walkSnapshot, type PlannedNode } from './plan.js';
import { isSmallFile, restoreSmallFiles } from './small-files.js';

export interface RestoreOptions {
  target: string;
  include?: readonly string[];
  /** Restore what is under this snapshot path straight into target (e.g. a PostgreSQL data directory). */
  root?: string;
  /** Files restored at once. */
  concurrency?: number;
  /** Decoding threads: default one per core; 0 decodes on this thread. Small restores always decode here. */
  workers?: number;
  signal?: AbortSignal;
  onProgress?: (p: { files: number; bytes: number; totalBytes: number; currentPath?: string }) => void;
}

export interface RestoreSummary { files: number; dirs: number; bytes: number; durationMs: number; errors: Array<{ path: string; reason: string }> }

const isRoot = process.getuid?.() === 0;

/** Bytes read but not yet decoded and written: bounds the memory of a restore. */
const READ_BUDGET = 12 * 1024 * 1024;
/** Repositories with less data than this restore without decode threads: starting them costs more than it saves. */
const INLINE_BYTES = 4 * 1024 * 1024;

interface RestoreContext { repo: Repository; index: MasterIndex; pool: DecodePool; budget: ByteBudget; signal: AbortSignal | undefined }

export async function restoreSnapshot(repo: Repository, ref: SnapshotRef, options: RestoreOptions): Promise<RestoreSummary> {
  const started = performance.now();
  const index = await repo.loadIndex(options.signal);
  // Decode workers start while the trees load, unless the whole repository is small.
  const pool = new DecodePool(repo.master, dataBytes(index, INLINE_BYTES) < INLINE_BYTES ? 0 : options.workers);
  pool.warm();
  try {
    return await restoreWith(repo, ref, options, index, pool, started);
  } finally {
    await pool.close();
  }
}

async function restoreWith(repo: Repository, ref: SnapshotRef, options: RestoreOptions, index: MasterIndex, pool: DecodePool, started: number): Promise<RestoreSummary> {
  const root = options.root?.replace(/\/+$/, '');
  const walked = await walkSnapshot(repo, index, ref.snapshot.tree, root ? [root] : options.include ?? [], options.signal);
  const nodes = root ? walked.filter((n) => n.path.startsWith(root + '/')).map((n) => ({ ...n, path: n.path.slice(root.length) })) : walked;
  const summary: RestoreSummary = { files: 0, dirs: 0, bytes: 0, durationMs: 0, errors: [] };
  const totalBytes = nodes.reduce((sum, n) => sum + (n.node.type === 'file' ? n.node.size ?? 0 : 0), 0);
  const report = (currentPath?: string): void => options.onProgress?.({ files: summary.files, bytes: summary.bytes, totalBytes, currentPath });
  await mkdir(options.target, { recursive: true });
  for (const entry of nodes.filter((n) => n.node.type === 'dir')) await mkdir(join(options.target, entry.path), { recursive: true });
  const links = new Map<string, Promise<string>>();
  const ctx: RestoreContext = { repo, index, pool, budget: new ByteBudget(READ_BUDGET), signal: options.signal };
  const small = nodes.filter((n) => isSmallFile(n.node, index));
  const others = nodes.filter((n) => n.node.type !== 'dir' && !isSmallFile(n.node, index));
  const smallDone = restoreSmallFiles({ ...ctx, target: options.target, chown: isRoot }, small, (bytes, files) => {
    summary.bytes += bytes;
    summary.files += files;
    report();
  });
  const othersDone = mapLimit(others, options.concurrency ?? 8, async (entry) => {
    const path = join(options.target, entry.path);
    try {
      await restoreEntry(ctx, entry.node, path, links, (n) => { summary.bytes += n; report(entry.path); });
      if (entry.node.type === 'file') summary.files++;
    } catch (err) {
      if (err instanceof BulwarkError || (err as Error).name === 'AbortError') throw err;
      summary.errors.push({ path: entry.path, reason: errorMessage(err) });
    }
  });
  const [smallOutcome] = await Promise.all([smallDone, othersDone]);
  summary.errors.push(...smallOutcome.errors);
  // Directories last and deepest first: writing their entries changed their mtimes.
  for (const entry of nodes.filter((n) => n.node.type === 'dir').sort((a, b) => b.depth - a.depth)) {
    await applyMetadata(join(options.target, entry.path), entry.node);
    summary.dirs++;
  }
  summary.durationMs = Math.round(performance.now() - started);
  report();
  return summary;
}

async function restoreEntry(ctx: RestoreContext, node: TreeNode, path: string, links: Map<string, Promise<string>>, onBytes: (n: number) => void): Promise<void> {
  await rm(path, { force: true });
  if (node.type === 'file') {
    const key = node.links && node.links > 1 ? `${node.device}:${node.inode}` : undefined;
    const first = key ? links.get(key) : undefined;
    if (first) {
      await link(await first, path);
      return;
    }
    const done = restoreFile(ctx, node, path, onBytes).then(() => path);
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

/** Bytes of data blobs in the index, counted up to `enough`. */
function dataBytes(index: MasterIndex, enough: number): number {
  let bytes = 0;
  for (const entry of index.entries()) {
    if (entry.type === 'data') bytes += entry.rawLength;
    if (bytes >= enough) break;
  }
  return bytes;
}

/** One read of adjacent blobs of a pack, and where each goes in the file. */
interface Run { pack: string; offset: number; length: number; blobs: RestoreBlob[] }

/** Reads of adjacent blobs are merged up to this size. */
const MAX_RUN = 2 * 1024 * 1024;

/**
 * A file's blobs are read (merging neighbours in a pack into one read) and
 * handed to the decode workers, which write them at their offsets: reads,
 * decoding and writes of many blobs overlap, within the byte budget.
 */
async function restoreFile(ctx: RestoreContext, node: TreeNode, path: string, onBytes: (n: number) => void): Promise<void> {
  const { runs, size } = planRuns(ctx.index, node.content ?? []);
  const handle = await open(path, 'w', 0o600);
  try {
    const results = await Promise.allSettled(runs.map((run) => ctx.budget.use(run.length, async () => {
      const data = await ctx.repo.backend.read('data', run.pack, { offset: run.offset, length: run.length }, ctx.signal);
      onBytes(await ctx.pool.restore(data, handle.fd, run.blobs));
    })));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) throw failures.find((e) => e instanceof BulwarkError) ?? failures[0];
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
}

function planRuns(index: MasterIndex, content: readonly string[]): { runs: Run[]; size: number } {
  const runs: Run[] = [];
  let position = 0;
  let run: Run | undefined;
  for (const id of content) {
    const at = index.get(id);
    if (!at) throw new BulwarkError('REPO_CORRUPT', `blob ${id.slice(0, 12)} is in no index`, { hint: 'run `bulwark backup check` to see what it affects' });
    if (!run || run.pack !== at.pack || at.offset !== run.offset + run.length || run.length + at.length > MAX_RUN) {
      runs.push((run = { pack: at.pack, offset: at.offset, length: 0, blobs: [] }));
    }
    run.blobs.push({ id, offset: run.length, length: at.length, rawLength: at.rawLength, compressed: at.compressed, position });
    run.length += at.length;
    position += at.rawLength;
  }
  return { runs, size: position };
}

async function applyMetadata(path: string, node: TreeNode): Promise<void> {
  if (isRoot) await lchown(path, node.uid, node.gid).catch(() => undefined);
  if (node.type !== 'symlink') await chmod(path, node.mode);
  const mtime = Number(BigInt(node.mtimeNs) / 1000n) / 1e6;
  await lutimes(path, mtime, mtime);
}

export type { PlannedNode };
