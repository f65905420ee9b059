import type { Logger } from '../../core/logger.js';
import type { BackupRunRecord, Store } from '../../store/index.js';
import { resultOf } from './metrics.js';
import { applyRun, type PolicyState } from './status.js';

/** Runs of history read at start to find when each copy target last received a backup. */
const COPY_HISTORY_RUNS = 200;

/** The latest runs of `policies` from the store, folded into their states. */
export async function loadPolicyStates(store: Pick<Store, 'lastBackupRuns' | 'listBackupRuns'>, policies: string[], stateOf: (policy: string) => PolicyState): Promise<void> {
  for (const entry of await store.lastBackupRuns()) {
    if (!policies.includes(entry.policy)) continue;
    const state = stateOf(entry.policy);
    if (entry.lastSuccess) applyRun(state, entry.lastSuccess);
    applyRun(state, entry.last);
  }
  for (const policy of policies) {
    // Oldest first, so each copy target ends at the latest backup it received.
    const runs = await store.listBackupRuns({ policy, kind: 'backup', limit: COPY_HISTORY_RUNS });
    const state = stateOf(policy);
    const { last, success } = { last: state.last.backup, success: state.lastSuccess.backup };
    for (const run of runs.reverse()) if (run.ok) applyRun(state, run);
    // Only the copy targets were wanted from the older runs.
    if (last) state.last.backup = last;
    else delete state.last.backup;
    if (success) state.lastSuccess.backup = success;
    else delete state.lastSuccess.backup;
  }
}

/** One line per finished run: what it did, never a secret (errors are scrubbed when the record is made). */
export function logRun(log: Logger, r: BackupRunRecord): void {
  const result = resultOf(r);
  const fields = {
    policy: r.policy, kind: r.kind, run: r.id, result, durationMs: r.durationMs, repository: r.repository,
    ...(r.snapshotId ? { snapshot: r.snapshotId.slice(0, 8) } : {}),
    ...(r.bytes !== null ? { bytes: r.bytes, addedBytes: r.addedBytes, storedBytes: r.storedBytes, files: r.files } : {}),
    ...(r.copies.length > 0 ? { copies: r.copies.map((c) => ({ repository: c.repository, ok: c.ok, ...(c.error ? { error: c.error } : {}) })) } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
  const level = result === 'failed' ? 'error' : result === 'partial' || r.copies.some((c) => !c.ok) ? 'warn' : 'info';
  log[level](fields, `${r.kind} run ${result === 'failed' ? 'failed' : 'finished'}`);
}
