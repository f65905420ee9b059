/**
 * The backup subsystem's face: what the CLI, the API and the daemon may use.
 * Everything else under src/backup is internal; add a name here on purpose when
 * another room needs it. S3 and SFTP client libraries stay lazily loaded.
 */

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
export {
  checkTargetAfterBackup,
  parseLsn,
  parseRecoveryTarget,
  prepareRecovery,
  startAndAwaitRecovery,
  type BaseBackupInfo,
  type RecoveryTarget,
} from './postgres/index.js';

// The daemon's scheduler of policy runs, and the API's view of it.
export { BackupScheduler, type BackupRunStore, type BackupSchedulerOptions, type RunContext, type RunExecutor } from './scheduler/index.js';
