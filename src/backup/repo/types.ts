/** A file system entry as a tree blob records it. */
export interface TreeNode {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev';
  mode: number;
  uid: number;
  gid: number;
  /** Nanoseconds since the epoch, as a decimal string (JSON numbers cannot hold it). */
  mtimeNs: string;
  size?: number;
  /** Blob ids of the file's content, in order. */
  content?: string[];
  /** Tree blob id of a directory's entries. */
  subtree?: string;
  linkTarget?: string;
  /** device and inode, to restore hard links as hard links */
  device?: number;
  inode?: number;
  links?: number;
  rdev?: number;
  /** ctime, only to tell a changed file from an unchanged one in the next backup */
  ctimeNs?: string;
}

export interface Tree {
  nodes: TreeNode[];
}

export type SourceKind = 'paths' | 'stdin' | 'postgres' | 'redis';

export interface SnapshotSummary {
  files: number;
  dirs: number;
  bytes: number;
  /** Bytes of new blobs (before compression), i.e. what was not deduplicated. */
  addedBytes: number;
  /** Bytes written to the repository for new blobs. */
  storedBytes: number;
  durationMs: number;
  unchangedFiles: number;
  skipped: Array<{ path: string; reason: string }>;
}

export interface Snapshot {
  version: 1;
  time: string;
  hostname: string;
  username: string;
  paths: string[];
  tags: string[];
  tree: string;
  source: { kind: SourceKind; name?: string; policy?: string };
  parent?: string;
  /** The id of this snapshot in the repository it was copied from. */
  original?: string;
  summary: SnapshotSummary;
  /** Source-specific metadata, e.g. the WAL range of a PostgreSQL base backup. */
  meta?: Record<string, unknown>;
}

export interface SnapshotRef {
  id: string;
  snapshot: Snapshot;
}
