/**
 * The backup subsystem's face: what the CLI, the API and the daemon may use.
 * Everything else under src/backup is internal; add a name here on purpose when
 * another room needs it. Loading this file stays cheap for `bulwark backup ...`
 * (archive_command runs it once per WAL file): the S3 and SFTP client libraries,
 * point-in-time recovery (the PostgreSQL client) and the scheduler (croner,
 * prom-client) are loaded on first use.
 */
import type * as Pitr from './postgres/index.js';
import type { BackupScheduler, BackupSchedulerOptions } from './scheduler/index.js';

// Repositories and where they live.
export { Repository } from './repo/repository.js';
export type { SnapshotRef, TreeNode } from './repo/types.js';
export type { CompressionMode } from './repo/blob-codec.js';
export { openBackend, withRetries, type Backend } from './backend/index.js';
export { resolveChunkerParams } from './chunker/index.js';

// Taking snapshots of files and streams.
export { backupPaths, backupStream, type BackupResult } from './archive/backup.js';

// Reading snapshots back: listing, single files, whole trees, restore tests.
export { walkSnapshot } from './restore/plan.js';
export { dumpFile } from './restore/dump.js';
export { restoreSnapshot } from './restore/restorer.js';
export { testRestore } from './restore/restore-test.js';

// Repository upkeep: check, forget by retention, prune, copy between repositories.
export { checkRepository } from './maintenance/check.js';
export { forgetSnapshots, type ForgetGroup } from './maintenance/forget.js';
export { checkSelection, type GroupSelection } from './maintenance/groups.js';
export { pruneRepository } from './maintenance/prune.js';
export { copySnapshots } from './maintenance/copy.js';
export type { RetentionPolicy } from './retention/index.js';

// Policies from bulwark.yaml: run one, open its repositories, its retention.
export { runPolicy, findPolicy } from './policy/runner.js';
export { openConfiguredRepo, type PolicyConfig } from './policy/repos.js';
export { isBaseBackupOf, retentionFor } from './policy/retention-run.js';

// PostgreSQL: WAL archiving (archive_command / restore_command) and point-in-time recovery.
export { archiveCommand, archiveSegmentToAll, restoreCommand, RESTORE_EXIT, writeRestoredSegment } from './postgres/wal-archive.js';
export { checkWalFileName } from './postgres/wal-store.js';
export { closeAll, fetchFromAny, openPolicyWalStores, type NamedWalStore } from './policy/wal-copies.js';
export { RepoWalStore } from './policy/repo-wal-store.js';
export { pushAsync, runArchiver } from './policy/wal-async.js';
export { archiveStatus } from './policy/wal-status.js';
export { parseLsn } from './postgres/wal-names.js';
export type { BaseBackupInfo, RecoveryTarget } from './postgres/index.js';
export type PointInTimeRecovery = Pick<typeof Pitr, 'checkTargetAfterBackup' | 'parseRecoveryTarget' | 'prepareRecovery' | 'startAndAwaitRecovery'>;
/** Point-in-time recovery: the target's syntax and checks, the recovery settings, a server replaying to the target. */
export async function loadPointInTimeRecovery(): Promise<PointInTimeRecovery> {
  return import('./postgres/index.js');
}

// The daemon's scheduler of policy runs, and the API's view of it.
export type { BackupScheduler, BackupRunStore, BackupSchedulerOptions, RunContext, RunExecutor } from './scheduler/index.js';
export async function createBackupScheduler(options: BackupSchedulerOptions): Promise<BackupScheduler> {
  const { BackupScheduler: Scheduler } = await import('./scheduler/index.js');
  return new Scheduler(options);
}
