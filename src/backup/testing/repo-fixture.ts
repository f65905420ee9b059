import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '../backend/local.js';
import { Repository } from '../repo/repository.js';

/** A fresh repository (real KDF, small chunks so small test files still make several) in a temp dir. */
export interface RepoFixture { dir: string; repoDir: string; repo: Repository; cleanup(): Promise<void> }

export const TEST_PASSWORD = 'correct horse battery staple';

export async function tempDir(prefix = 'bulwark-backup-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function newRepo(password = TEST_PASSWORD): Promise<RepoFixture> {
  const dir = await tempDir();
  const repoDir = join(dir, 'repo');
  const repo = await Repository.init(new LocalBackend(repoDir), password, { chunker: { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 } });
  return { dir, repoDir, repo, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
