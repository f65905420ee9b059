/** How to reach the server being backed up. The password never goes on a command line. */
export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Database for the pre-flight queries; `postgres` when absent. */
  database?: string;
}

export interface BaseBackupInfo {
  label: string;
  /** LSNs as PostgreSQL prints them, e.g. `0/2000028`. */
  startLsn: string;
  /** End of the WAL needed to make the backup consistent: recovery cannot stop before it. */
  stopLsn: string;
  /** Timeline the backup started on (the stop timeline can be later when taken from a promoting standby). */
  timeline: number;
  stopTimeline: number;
  startTime: Date;
  /**
   * No earlier than the moment the backup became consistent: our clock when
   * pg_basebackup exited, or, once waitForWalArchived has read the archived
   * backup history file, the server's STOP TIME plus one second (it has whole seconds).
   */
  stopTime: Date;
  startWalFile: string;
  stopWalFile: string;
  /** Name of the backup history file (`*.backup`) the server archives for this backup. */
  backupHistoryFile: string;
  walSegmentSize: number;
  /** Major version, from PG_VERSION (a restore needs the same major version's binaries). */
  pgVersion: string;
  /** From global/pg_control; a WAL archive belongs to exactly one system. */
  systemIdentifier?: string;
}
