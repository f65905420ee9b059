import type { BulwarkConfig } from '../../config/index.js';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import { backupPaths, type BackupResult } from '../archive/backup.js';
import type { ArchiveProgress } from '../archive/archiver.js';
import { copySnapshots } from '../maintenance/copy.js';
import type { Repository } from '../repo/repository.js';
import { openConfiguredRepo, type PolicyConfig } from './repos.js';
import { RepoWalStore } from './repo-wal-store.js';
import { applyPolicyRetention } from './retention-run.js';
import { policyOf } from '../maintenance/groups.js';
import { prepareSource } from './sources.js';
import { syncWal } from './wal-copies.js';

export interface CopyOutcome { repository: string; ok: boolean; snapshot?: string; error?: string; durationMs: number; forgotten?: number; walCopied?: number }

export interface PolicyRunResult {
  policy: string;
  ok: boolean;
  partial: boolean;
  startedAt: string;
  durationMs: number;
  repository: string;
  snapshot?: BackupResult;
  copies: CopyOutcome[];
  forgotten: number;
  error?: string;
}

export interface RunPolicyOptions { signal?: AbortSignal; onProgress?: (p: ArchiveProgress) => void; lockWaitMs?: number }

/**
 * One scheduled run: back up the source into the first repository of
 * `copies`, apply retention there, then copy the new snapshot to every other
 * repository, bring the copy's WAL up to date and apply the copy's own
 * retention. Retention only ever judges this policy's snapshots. A copy
 * target that is down fails only its own copy.
 */
export async function runPolicy(config: BulwarkConfig, name: string, options: RunPolicyOptions = {}): Promise<PolicyRunResult> {
  const policy = findPolicy(config, name);
  const started = Date.now();
  const result: PolicyRunResult = { policy: name, ok: false, partial: false, startedAt: new Date(started).toISOString(), durationMs: 0, repository: policy.copies[0]!, copies: [], forgotten: 0 };
  let primary: Repository | undefined;
  try {
    primary = await openConfiguredRepo(config.backups!, policy.copies[0]!, { signal: options.signal });
    const wal = policy.wal_archiving ? new RepoWalStore(primary, name) : undefined;
    const source = await prepareSource(config, name, policy, wal, options.signal);
    try {
      result.snapshot = await backupPaths(primary, source.paths, {
        exclude: source.exclude, oneFileSystem: source.oneFileSystem, compression: policy.compression,
        source: source.source, meta: source.meta, tags: [`policy:${name}`], signal: options.signal, onProgress: options.onProgress, lockWaitMs: options.lockWaitMs ?? 60_000,
      });
    } finally {
      await source.cleanup();
    }
    result.partial = result.snapshot.partial;
    result.forgotten = (await applyPolicyRetention(primary, name, policy, policy.copies[0]!, options.signal)).forgotten;
    for (const copy of policy.copies.slice(1)) result.copies.push(await copyTo(config, name, copy, primary, result.snapshot.id, options.signal));
    result.ok = true;
  } catch (err) {
    result.error = err instanceof BulwarkError ? err.describe() : errorMessage(err);
  } finally {
    await primary?.close().catch(() => undefined);
  }
  result.durationMs = Date.now() - started;
  return result;
}

export function findPolicy(config: BulwarkConfig, name: string): PolicyConfig {
  const policy = config.backups?.policies[name];
  if (!policy) throw new BulwarkError('USAGE', `bulwark.yaml has no backup policy "${name}"`, { hint: `known: ${Object.keys(config.backups?.policies ?? {}).join(', ') || 'none'}` });
  return policy;
}

/**
 * The new snapshot, and every snapshot of the policy newer than the newest the
 * copy holds: a copy that failed or was killed last time is caught up, while
 * snapshots the copy's own retention already removed are not brought back.
 * A new, empty copy is seeded with the policy's whole history.
 */
async function snapshotsToCopy(primary: Repository, dest: Repository, policy: string, snapshot: string, signal?: AbortSignal): Promise<string[]> {
  const held = (await dest.listSnapshots(signal)).filter((s) => policyOf(s.snapshot) === policy).map((s) => s.snapshot.time).sort();
  const newest = held.at(-1) ?? '';
  const missed = (await primary.listSnapshots(signal)).filter((s) => policyOf(s.snapshot) === policy && s.snapshot.time > newest).map((s) => s.id);
  return [...new Set([...missed, snapshot])];
}

async function copyTo(config: BulwarkConfig, policyName: string, name: string, primary: Repository, snapshot: string, signal?: AbortSignal): Promise<CopyOutcome> {
  const started = Date.now();
  const policy = findPolicy(config, policyName);
  let dest: Repository | undefined;
  try {
    dest = await openConfiguredRepo(config.backups!, name, { copyFrom: primary, signal });
    const report = await copySnapshots(primary, dest, { snapshots: await snapshotsToCopy(primary, dest, policyName, snapshot, signal), signal });
    const { forgotten } = await applyPolicyRetention(dest, policyName, policy, name, signal);
    const walCopied = policy.wal_archiving ? await syncWal(primary, dest, policyName, signal) : 0;
    const copy = report.copied.find((c) => c.source === snapshot)?.copy;
    return { repository: name, ok: true, snapshot: copy, durationMs: Date.now() - started, forgotten, walCopied };
  } catch (err) {
    return { repository: name, ok: false, error: err instanceof BulwarkError ? err.describe() : errorMessage(err), durationMs: Date.now() - started };
  } finally {
    await dest?.close().catch(() => undefined);
  }
}
