/**
 * Deterministic data sets for the backup benchmark. `mixed`: files with
 * log-uniform sizes between 4 KiB and 64 MiB in a few nested directories,
 * ~70% of the bytes incompressible (AES-CTR keystream), ~30% pseudo-prose.
 * `small`: tens of thousands of files of 200 B-8 KiB in 500 directories.
 * A manifest next to the tree records seed and size; a matching data set is
 * reused, and one left mutated by a previous run is repaired file by file.
 *
 *   npx tsx bench/backup/dataset.ts --dir DIR [--size 1GiB] [--seed S]
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng, sourceFor, type Kind } from './content.js';

export const MIN_FILE = 4 * 1024;
export const MAX_FILE = 64 * 1024 * 1024;
const TEXT_SHARE = 0.3;
const CHUNK = 4 * 1024 * 1024;
const DIRS = ['', 'docs', 'docs/2024', 'docs/2024/q3', 'media', 'media/raw/cam1', 'logs', 'logs/app/archive'];
const MANIFEST_VERSION = 1;

export interface FileSpec { path: string; size: number; kind: Kind; label: string }

/** `mixed`: log-uniform 4 KiB-64 MiB files; `small`: `size` files of 200 B-8 KiB in 500 directories. */
export type Shape = 'mixed' | 'small';

export interface Manifest {
  version: number;
  seed: string;
  /** Bytes in the data set. */
  size: number;
  shape?: Shape;
  /** For `small`: the number of files asked for. */
  count?: number;
  files: FileSpec[];
  /** Files changed or deleted by a mutation (regenerated to repair) and files it added (deleted to repair). */
  touched: string[];
  added: string[];
}

export interface Dataset { dir: string; root: string; manifest: Manifest }

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new Error(`bad size: ${text} (try 1GiB, 256MiB)`);
  const exp = ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  return Math.round(Number(m[1]) * 1024 ** exp);
}

/** File sizes (log-uniform), directories and kinds: ~30% of bytes text, chosen greedily by size. */
export function planFiles(seed: string, total: number): FileSpec[] {
  const rng = new Rng(`plan:${seed}`);
  const sizes: number[] = [];
  let sum = 0;
  while (sum < total) {
    const size = Math.round(Math.exp(Math.log(MIN_FILE) + rng.next() * Math.log(MAX_FILE / MIN_FILE)));
    const left = total - sum;
    const take = left - size < MIN_FILE ? left : size;
    if (take < MIN_FILE && sizes.length > 0) sizes[sizes.length - 1] = (sizes[sizes.length - 1] as number) + take;
    else sizes.push(take);
    sum += take;
  }
  const kinds: Kind[] = sizes.map(() => 'binary');
  let text = 0;
  for (const i of sizes.map((_, i) => i).sort((a, b) => (sizes[b] as number) - (sizes[a] as number))) {
    const size = sizes[i] as number;
    if (text + size <= total * TEXT_SHARE) { kinds[i] = 'text'; text += size; }
  }
  return sizes.map((size, i) => {
    const kind = kinds[i] as Kind;
    const dir = DIRS[rng.u32() % DIRS.length] as string;
    const name = `f${String(i).padStart(4, '0')}.${kind === 'text' ? 'log' : 'bin'}`;
    return { path: dir ? `${dir}/${name}` : name, size, kind, label: `${seed}:${i}` };
  });
}

/** Many small files, the shape of configuration, mail and application data: 200 B-8 KiB, ~30% text, in 500 directories. */
export function planSmallFiles(seed: string, count: number): FileSpec[] {
  const rng = new Rng(`small:${seed}`);
  return Array.from({ length: count }, (_, i) => {
    const size = 200 + (rng.u32() % (8 * 1024 - 200 + 1));
    const kind: Kind = rng.next() < TEXT_SHARE ? 'text' : 'binary';
    const dir = `d${String(i % 50).padStart(2, '0')}/s${String(Math.floor(i / 50) % 10)}`;
    return { path: `${dir}/f${String(i).padStart(6, '0')}.${kind === 'text' ? 'conf' : 'dat'}`, size, kind, label: `${seed}:s${i}` };
  });
}

/**
 * Writes `size` bytes of the given kind to `path` from offset `at` (default: a
 * new file). The next chunk is generated while the previous one is written.
 */
export async function writeContent(path: string, kind: Kind, label: string, size: number, at?: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const file = await open(path, at === undefined ? 'w' : 'r+');
  try {
    const src = sourceFor(kind, label);
    let pending: Promise<unknown> = Promise.resolve();
    for (let done = 0; done < size;) {
      const n = Math.min(CHUNK, size - done);
      const chunk = src.take(n);
      await pending;
      pending = file.write(chunk, 0, n, (at ?? 0) + done);
      done += n;
    }
    await pending;
  } finally {
    await file.close();
  }
}

export async function generateFile(root: string, spec: FileSpec): Promise<void> {
  await writeContent(join(root, spec.path), spec.kind, spec.label, spec.size);
}

export function saveManifest(dir: string, manifest: Manifest): void {
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
}

function loadManifest(dir: string): Manifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
}

function sizeMatches(root: string, spec: FileSpec): boolean {
  try {
    return statSync(join(root, spec.path)).size === spec.size;
  } catch {
    return false;
  }
}

/** Undoes a previous mutation: regenerates touched files, deletes added ones. */
async function repair(dir: string, root: string, manifest: Manifest): Promise<void> {
  const byPath = new Map(manifest.files.map((f) => [f.path, f]));
  for (const p of manifest.added) {
    rmSync(join(root, p), { force: true });
    try { rmdirSync(dirname(join(root, p))); } catch { /* not empty: an original directory */ }
  }
  for (const p of manifest.touched) {
    const spec = byPath.get(p);
    if (spec) await generateFile(root, spec);
  }
  saveManifest(dir, { ...manifest, touched: [], added: [] });
}

/**
 * Returns the pristine data set in `dir` (tree under `dir/tree`), generating
 * or repairing it as needed. `seconds` is the generation time, 0 if reused.
 */
export async function ensureDataset(dir: string, seed: string, size: number, shape: Shape = 'mixed'): Promise<Dataset & { seconds: number; reused: boolean }> {
  const root = join(dir, 'tree');
  const started = performance.now();
  const old = loadManifest(dir);
  if (old && old.version === MANIFEST_VERSION && old.seed === seed && (old.shape ?? 'mixed') === shape && (shape === 'small' ? old.count === size : old.size === size)) {
    await repair(dir, root, old);
    const manifest = { ...old, touched: [], added: [] };
    const stale = manifest.files.filter((f) => !sizeMatches(root, f));
    for (const f of stale) await generateFile(root, f);
    return { dir, root, manifest, seconds: (performance.now() - started) / 1000, reused: true };
  }
  rmSync(root, { recursive: true, force: true });
  const files = shape === 'small' ? planSmallFiles(seed, size) : planFiles(seed, size);
  const manifest: Manifest = { version: MANIFEST_VERSION, seed, size: shape === 'small' ? files.reduce((a, f) => a + f.size, 0) : size, shape, ...(shape === 'small' ? { count: size } : {}), files, touched: [], added: [] };
  for (const f of manifest.files) await generateFile(root, f);
  saveManifest(dir, manifest);
  return { dir, root, manifest, seconds: (performance.now() - started) / 1000, reused: false };
}

function describe(files: FileSpec[]): string {
  const text = files.filter((f) => f.kind === 'text').reduce((a, f) => a + f.size, 0);
  const total = files.reduce((a, f) => a + f.size, 0);
  return `${files.length} files, ${(total / 2 ** 20).toFixed(0)} MiB, ${((100 * text) / total).toFixed(1)}% text, largest ${(Math.max(...files.map((f) => f.size)) / 2 ** 20).toFixed(1)} MiB`;
}

export function describeDataset(ds: Dataset): string {
  return describe(ds.manifest.files);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, size: { type: 'string', default: '1GiB' }, seed: { type: 'string', default: 'bulwark-bench-1' } } });
  if (!values.dir) throw new Error('--dir is required');
  const existed = existsSync(join(values.dir, 'manifest.json'));
  const ds = await ensureDataset(values.dir, values.seed, parseSize(values.size));
  const mib = ds.manifest.size / 2 ** 20;
  const speed = ds.reused ? '' : ` (${(mib / ds.seconds).toFixed(0)} MiB/s)`;
  console.log(`${ds.reused ? 'reused (repaired if needed)' : existed ? 'regenerated' : 'generated'} ${ds.root}: ${describeDataset(ds)} in ${ds.seconds.toFixed(2)}s${speed}`);
}
