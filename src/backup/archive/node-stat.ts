import type { BigIntStats } from 'node:fs';
import type { TreeNode } from '../repo/types.js';

export function nodeType(stat: BigIntStats): TreeNode['type'] {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'chardev';
  return 'blockdev';
}

export function nodeFromStat(name: string, stat: BigIntStats): TreeNode {
  const type = nodeType(stat);
  const node: TreeNode = {
    name,
    type,
    mode: Number(stat.mode & 0o7777n),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    mtimeNs: stat.mtimeNs.toString(),
    ctimeNs: stat.ctimeNs.toString(),
  };
  if (type === 'file') {
    node.size = Number(stat.size);
    node.device = Number(stat.dev);
    node.inode = Number(stat.ino);
    node.links = Number(stat.nlink);
  }
  if (type === 'chardev' || type === 'blockdev') node.rdev = Number(stat.rdev);
  return node;
}

/** A file is taken as unchanged when size, mtime, ctime and inode all match, as restic does. */
export function unchanged(previous: TreeNode | undefined, current: TreeNode): boolean {
  return previous !== undefined && previous.type === 'file' && previous.content !== undefined &&
    previous.size === current.size && previous.mtimeNs === current.mtimeNs && previous.ctimeNs === current.ctimeNs && previous.inode === current.inode;
}
