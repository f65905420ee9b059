import { BulwarkError, errorMessage } from '../../core/errors.js';
import { compareWalPositions, parseWalFileName } from '../postgres/wal-names.js';
import type { Repository } from '../repo/repository.js';
import { openConfiguredRepo, type BackupsConfig, type PolicyConfig } from './repos.js';
import { RepoWalStore } from './repo-wal-store.js';
import { oldestBaseStartWal } from './retention-run.js';

/** One repository's WAL store, named for messages. */
export interface NamedWalStore { repository: string; store: RepoWalStore; repo: Repository }

/**
 * Opens the WAL store of every repository the policy names: every copy is a
 * full disaster-recovery copy, so WAL goes to all of them. Copies missing on
 * disk are created sharing the first repository's content key, as a backup
 * run would create them.
 */
export async function openPolicyWalStores(backups: BackupsConfig, name: string, policy: PolicyConfig, signal?: AbortSignal): Promise<NamedWalStore[]> {
  const [first, ...rest] = policy.copies;
  const opened: NamedWalStore[] = [];
  try {
    const primary = await openConfiguredRepo(backups, first!, { signal });
    opened.push({ repository: first!, repo: primary, store: new RepoWalStore(primary, name) });
    for (const repository of rest) {
      const repo = await openConfiguredRepo(backups, repository, { copyFrom: primary, signal });
      opened.push({ repository, repo, store: new RepoWalStore(repo, name) });
    }
    return opened;
  } catch (err) {
    await closeAll(opened);
    throw err;
  }
}

export async function closeAll(stores: NamedWalStore[]): Promise<void> {
  await Promise.all(stores.map((s) => s.repo.close().catch(() => undefined)));
}

/**
 * Copies the policy's WAL that `dest` lacks from `source`: everything from
 * the start of dest's oldest base backup on, and every timeline history file.
 * This fills what a copy missed (a copy added later, or one restored from
 * elsewhere); WAL older than dest's own retention is not brought back.
 */
export async function syncWal(source: Repository, dest: Repository, name: string, signal?: AbortSignal): Promise<number> {
  const from = await oldestBaseStartWal(dest, name, signal);
  if (!from) return 0;
  const start = parseWalFileName(from)!;
  const src = new RepoWalStore(source, name);
  const dst = new RepoWalStore(dest, name);
  const present = new Set(await dst.list(signal));
  let copied = 0;
  for (const file of await src.list(signal)) {
    if (present.has(file)) continue;
    const parsed = parseWalFileName(file);
    if (!parsed || (parsed.kind !== 'history' && compareWalPositions(parsed, start) < 0)) continue;
    const data = await src.get(file, signal);
    if (data === undefined) continue; // pruned meanwhile
    await dst.put(file, data, signal);
    copied++;
  }
  return copied;
}

/**
 * restore_command over several repositories: the first that has the file
 * answers. "Missing" only when every repository answered that it is missing;
 * when one could not be read and none had it, that is a failure (PostgreSQL
 * must not take an unreachable archive for the end of WAL).
 */
export async function fetchFromAny(stores: NamedWalStore[], file: string, signal?: AbortSignal): Promise<Buffer | undefined> {
  const failures: string[] = [];
  for (const { repository, store } of stores) {
    try {
      const data = await store.get(file, signal);
      if (data !== undefined) return data;
    } catch (err) {
      failures.push(`${repository}: ${err instanceof BulwarkError ? err.describe() : errorMessage(err)}`);
    }
  }
  if (failures.length > 0) {
    throw new BulwarkError('BACKEND_UNAVAILABLE', `WAL file ${file} is in no repository that could be read (${failures.join('; ')})`, {
      hint: 'restore from one repository with --repository NAME, or bring the failing one back',
    });
  }
  return undefined;
}
