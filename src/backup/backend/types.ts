/**
 * Where a repository's files live. A backend knows nothing of encryption or
 * formats: it stores named, immutable files in a few kinds of folders.
 *
 * Every write is atomic: a reader sees the whole file or none of it, even if
 * the writer is killed mid-way (local: temp file, fsync, rename; S3: a single
 * PUT; SFTP: temp name then rename). Writing a name that exists replaces it.
 */
export type FileKind = 'config' | 'keys' | 'data' | 'index' | 'snapshots' | 'locks' | 'wal';

export const FILE_KINDS: readonly FileKind[] = ['config', 'keys', 'data', 'index', 'snapshots', 'locks', 'wal'];

export interface FileInfo {
  kind: FileKind;
  /** `[A-Za-z0-9._-]+`; for kind `config` always `config`. */
  name: string;
  size: number;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface Backend {
  /** A human-readable, secret-free description, e.g. `local:/var/backups/x` or `s3:bucket/prefix`. */
  readonly location: string;
  /** Creates the folders (if the backend has any). Idempotent. */
  create(signal?: AbortSignal): Promise<void>;
  /** Undefined when the file does not exist. */
  stat(kind: FileKind, name: string, signal?: AbortSignal): Promise<FileInfo | undefined>;
  /** Throws BulwarkError NOT_FOUND when the file is missing. */
  read(kind: FileKind, name: string, range?: ByteRange, signal?: AbortSignal): Promise<Buffer>;
  write(kind: FileKind, name: string, data: Buffer, signal?: AbortSignal): Promise<void>;
  /** Removing a missing file is not an error. */
  remove(kind: FileKind, name: string, signal?: AbortSignal): Promise<void>;
  list(kind: FileKind, signal?: AbortSignal): Promise<FileInfo[]>;
  close(): Promise<void>;
}
