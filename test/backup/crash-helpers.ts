import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LocalBackend } from '../../src/backup/backend/local.js';
import { checkRepository } from '../../src/backup/maintenance/check.js';
import { Repository } from '../../src/backup/repo/repository.js';
import { restoreSnapshot } from '../../src/backup/restore/restorer.js';

export const PASSWORD = 'crash-test-password';

export type Manifest = Map<string, string>;

/** sha256 of every file under dir, by relative path. */
export async function manifest(dir: string): Promise<Manifest> {
  const out: Manifest = new Map();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(relative(dir, path), createHash('sha256').update(await readFile(path)).digest('hex'));
  }
  return out;
}

/** Files of mixed size and compressibility; `round` changes a few of them so every run writes new data. */
export async function mutateData(dir: string, round: number): Promise<void> {
  await mkdir(join(dir, 'sub'), { recursive: true });
  for (let i = 0; i < 6; i++) {
    if (round > 0 && (i + round) % 3 === 0) continue; // two thirds of the files change every round
    const size = 200_000 + ((i * 7919 + round * 104_729) % 1_500_000);
    const body = i % 2 === 0 ? randomBytes(size) : Buffer.from(`round ${round} line ${i} `.repeat(Math.ceil(size / 20))).subarray(0, size);
    await writeFile(join(dir, i % 3 === 0 ? 'sub' : '.', `file-${i}.dat`), body);
  }
}

export async function openRepo(dir: string): Promise<Repository> {
  return Repository.open(new LocalBackend(dir), PASSWORD);
}

/** The repository passes check --read-data, and each snapshot restores to exactly the files it was taken of. */
export async function verifyRepo(repoDir: string, expected: Map<string, Manifest>, scratch: string): Promise<void> {
  const repo = await openRepo(repoDir);
  const report = await checkRepository(repo, { readData: true });
  if (!report.ok) throw new Error(`check --read-data failed: ${report.errors.join('; ')}`);
  for (const [id, files] of expected) {
    const target = join(scratch, `restore-${id.slice(0, 8)}`);
    const ref = await repo.findSnapshot(id);
    await restoreSnapshot(repo, ref, { target });
    const restored = await manifest(join(target, ref.snapshot.paths[0]!));
    await rm(target, { recursive: true, force: true });
    if (JSON.stringify([...restored].sort()) !== JSON.stringify([...files].sort())) throw new Error(`snapshot ${id.slice(0, 8)} does not restore to the data it was taken of`);
  }
}

export function randomDelay(maxMs: number): number {
  return Math.floor(Math.random() * maxMs);
}
