export * from './base-backup.js';
export * from './wal-archive.js';
export * from './recovery.js';
export * from './wal-names.js';
export { parseBackupHistory, parseBackupLabel, parseManifestWalRanges, parsePgTimestamp } from './backup-files.js';
export { findPgBinDir, postgresOsUser, type OsUser } from './pg-env.js';
