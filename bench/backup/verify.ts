/**
 * Restore verification: the restored tree must hold exactly the data set's
 * files, with equal sizes and SHA-256 digests.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface FileDigest { size: number; sha256: string }
export type TreeDigest = Map<string, FileDigest>;

export interface Verification { ok: boolean; files: number; bytes: number; root: string; missing: string[]; extra: string[]; differ: string[] }

/** Relative paths of regular files under `root`, sorted. */
export function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, p));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

async function sha256(path: string): Promise<string> {
  const h = createHash('sha256');
  const file = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return h.digest('hex');
}

export async function digestTree(root: string): Promise<TreeDigest> {
  const out: TreeDigest = new Map();
  for (const p of listFiles(root)) out.set(p, { size: statSync(join(root, p)).size, sha256: await sha256(join(root, p)) });
  return out;
}

export function treeBytes(d: TreeDigest): number {
  let n = 0;
  for (const f of d.values()) n += f.size;
  return n;
}

/**
 * Where the data set landed under a restore target: restic recreates the
 * absolute path (TARGET/abs/path/tree); other tools may restore the tree's
 * contents or its last component.
 */
export function restoredRoot(target: string, dataRoot: string, probe: string): string {
  const candidates = [join(target, dataRoot), target, join(target, basename(dataRoot))];
  return candidates.find((c) => existsSync(join(c, probe))) ?? target;
}

export async function verifyRestore(expected: TreeDigest, target: string, dataRoot: string): Promise<Verification> {
  const probe = [...expected.keys()][0] ?? '';
  const root = restoredRoot(target, dataRoot, probe);
  const got = existsSync(root) ? listFiles(root) : [];
  const gotSet = new Set(got);
  const missing = [...expected.keys()].filter((p) => !gotSet.has(p));
  const extra = got.filter((p) => !expected.has(p));
  const differ: string[] = [];
  for (const p of got) {
    const want = expected.get(p);
    if (!want) continue;
    if (statSync(join(root, p)).size !== want.size || (await sha256(join(root, p))) !== want.sha256) differ.push(p);
  }
  const ok = missing.length === 0 && extra.length === 0 && differ.length === 0;
  return { ok, files: got.length, bytes: treeBytes(expected), root, missing, extra, differ };
}

export function describeMismatch(v: Verification): string {
  const some = (xs: string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? ', …' : '');
  const parts = [];
  if (v.missing.length) parts.push(`${v.missing.length} missing (${some(v.missing)})`);
  if (v.extra.length) parts.push(`${v.extra.length} unexpected (${some(v.extra)})`);
  if (v.differ.length) parts.push(`${v.differ.length} differ in size or SHA-256 (${some(v.differ)})`);
  return `${parts.join('; ')} under ${v.root}`;
}
