/**
 * Deterministic ~5% change to a pristine data set, like a day of activity:
 * ranges overwritten in the middle of files (2.5% of the bytes), appends
 * (1%), a few new files (1.5%) and two deleted files. Touched and added paths
 * go into the manifest first, so a later run can repair the data set.
 */
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, sourceFor } from './content.js';
import { saveManifest, writeContent, type Dataset, type FileSpec } from './dataset.js';

const OVERWRITE_SHARE = 0.025;
const APPEND_SHARE = 0.01;
const NEW_SHARE = 0.015;
const MAX_OVERWRITE = 1024 * 1024;
const MAX_APPEND = 256 * 1024;
const NEW_FILES = 3;

export interface Mutation {
  overwritten: number;
  appended: number;
  added: number;
  deleted: number;
  /** Bytes changed or new (overwritten + appended + added), the figure aimed at ~5%. */
  changed: number;
  files: { overwritten: number; appended: number; added: number; deleted: number };
}

interface Plan {
  deletes: FileSpec[];
  overwrites: { spec: FileSpec; offset: number; length: number }[];
  appends: { spec: FileSpec; length: number }[];
  adds: FileSpec[];
}

function shuffled<T>(items: T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.u32() % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function planDeletes(files: FileSpec[]): FileSpec[] {
  const small = files.filter((f) => f.size < 1024 * 1024);
  return (small.length >= 2 ? small : [...files].sort((a, b) => a.size - b.size)).slice(0, Math.min(2, files.length - 1));
}

function planOverwrites(files: FileSpec[], budget: number): Plan['overwrites'] {
  const out: Plan['overwrites'] = [];
  for (const spec of files) {
    if (budget <= 0) break;
    if (spec.size < 16 * 1024) continue;
    const length = Math.min(Math.floor(spec.size / 4), MAX_OVERWRITE, budget);
    out.push({ spec, offset: Math.floor((spec.size - length) / 2), length });
    budget -= length;
  }
  return out;
}

function planAppends(files: FileSpec[], budget: number): Plan['appends'] {
  const out: Plan['appends'] = [];
  for (const spec of files) {
    if (budget <= 0) break;
    const length = Math.min(MAX_APPEND, budget);
    out.push({ spec, length });
    budget -= length;
  }
  return out;
}

function planAdds(seed: string, total: number, rng: Rng): FileSpec[] {
  const dirs = ['docs/2024/q4', 'media/raw/cam2', 'logs'];
  return dirs.slice(0, NEW_FILES).map((dir, i) => {
    const kind = i === 0 ? 'text' : 'binary';
    const size = Math.floor((total * NEW_SHARE) / NEW_FILES) + (rng.u32() % 4096);
    return { path: `${dir}/new${i}.${kind === 'text' ? 'log' : 'bin'}`, size, kind, label: `${seed}:new:${i}` };
  });
}

function plan(ds: Dataset): Plan {
  const { seed, size, files } = ds.manifest;
  const rng = new Rng(`mutate:${seed}`);
  const deletes = planDeletes(shuffled(files, rng));
  const rest = files.filter((f) => !deletes.includes(f));
  const overwrites = planOverwrites(shuffled(rest, rng), Math.round(size * OVERWRITE_SHARE));
  const appends = planAppends(shuffled(rest, rng), Math.round(size * APPEND_SHARE));
  return { deletes, overwrites, appends, adds: planAdds(seed, size, rng) };
}

export async function mutateDataset(ds: Dataset): Promise<Mutation> {
  const p = plan(ds);
  const touched = new Set([...p.deletes, ...p.overwrites.map((o) => o.spec), ...p.appends.map((a) => a.spec)].map((f) => f.path));
  saveManifest(ds.dir, { ...ds.manifest, touched: [...touched], added: p.adds.map((f) => f.path) });
  for (const f of p.deletes) rmSync(join(ds.root, f.path));
  for (const o of p.overwrites) await writeContent(join(ds.root, o.spec.path), o.spec.kind, `${o.spec.label}:overwrite`, o.length, o.offset);
  for (const a of p.appends) appendFileSync(join(ds.root, a.spec.path), sourceFor(a.spec.kind, `${a.spec.label}:append`).take(a.length));
  for (const f of p.adds) await writeContent(join(ds.root, f.path), f.kind, f.label, f.size);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const m = {
    overwritten: sum(p.overwrites.map((o) => o.length)),
    appended: sum(p.appends.map((a) => a.length)),
    added: sum(p.adds.map((f) => f.size)),
    deleted: sum(p.deletes.map((f) => f.size)),
  };
  return { ...m, changed: m.overwritten + m.appended + m.added, files: { overwritten: p.overwrites.length, appended: p.appends.length, added: p.adds.length, deleted: p.deletes.length } };
}
