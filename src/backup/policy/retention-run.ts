import type { RetentionConfig } from '../../config/index.js';
import { forgetSnapshots } from '../maintenance/forget.js';
import { policyOf } from '../maintenance/groups.js';
import { pruneRepository } from '../maintenance/prune.js';
import { pruneWal } from '../postgres/wal-archive.js';
import type { Repository } from '../repo/repository.js';
import type { SnapshotRef } from '../repo/types.js';
import type { PolicyConfig } from './repos.js';
import { RepoWalStore } from './repo-wal-store.js';

export interface RetentionOutcome { forgotten: number; walRemoved: number }

/** The retention a repository of the policy applies: its own (`copies: [{ repository, retention }]`) or the policy's. */
export function retentionFor(policy: PolicyConfig, repository: string): RetentionConfig | undefined {
  return policy.copy_retention[repository] ?? policy.retention;
}

/**
 * Applies the retention of `repository` to the snapshots of this policy, and
 * of this policy only, then prunes their data and the policy's WAL that no kept
 * base backup can use. Snapshots of other policies in the same repository are
 * never judged.
 */
export async function applyPolicyRetention(repo: Repository, name: string, policy: PolicyConfig, repository: string, signal?: AbortSignal): Promise<RetentionOutcome> {
  const retention = retentionFor(policy, repository);
  let forgotten = 0;
  if (retention) {
    const { keep_within, ...rest } = retention;
    const groups = await forgetSnapshots(repo, { ...rest, ...(keep_within ? { keep_within } : {}) }, { select: { policy: name }, signal });
    forgotten = groups.reduce((n, g) => n + g.remove.length, 0);
    if (forgotten > 0) await pruneRepository(repo, { signal, lockWaitMs: 10_000 });
  }
  const walRemoved = policy.wal_archiving ? (await pruneOldWal(repo, name, signal)).length : 0;
  return { forgotten, walRemoved };
}

/** The start WAL file of the policy's oldest base backup in the repository: WAL before it can be replayed onto nothing kept. */
export async function oldestBaseStartWal(repo: Repository, name: string, signal?: AbortSignal): Promise<string | undefined> {
  const bases = (await repo.listSnapshots(signal)).filter((s) => isBaseBackupOf(s, name));
  return (bases[0]?.snapshot.meta?.postgres as { startWalFile?: string } | undefined)?.startWalFile;
}

export function isBaseBackupOf(ref: SnapshotRef, policy: string): boolean {
  return ref.snapshot.source.kind === 'postgres' && policyOf(ref.snapshot) === policy && ref.snapshot.meta?.postgres !== undefined;
}

async function pruneOldWal(repo: Repository, name: string, signal?: AbortSignal): Promise<string[]> {
  const oldest = await oldestBaseStartWal(repo, name, signal);
  return oldest ? pruneWal(new RepoWalStore(repo, name), oldest, signal) : [];
}
