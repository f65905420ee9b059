/**
 * WAL positions (LSNs) and archive file names: segments
 * `TTTTTTTTLLLLLLLLSSSSSSSS`, `<segment>.partial`, backup history files
 * `<segment>.OOOOOOOO.backup` and timeline history files `TTTTTTTT.history`.
 */
import { BulwarkError } from '../../core/errors.js';

export const DEFAULT_WAL_SEGMENT_SIZE = 16 * 1024 * 1024;

export type WalFileKind = 'segment' | 'partial' | 'backup' | 'history';

export interface WalFileName {
  kind: WalFileKind;
  timeline: number;
  /** The two halves of the segment number (`LLLLLLLL`, `SSSSSSSS`); 0 for history files. */
  log: number;
  seg: number;
}

const LSN_RE = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const SEGMENT_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial|\.[0-9A-F]{8}\.backup)?$/;
const HISTORY_RE = /^([0-9A-F]{8})\.history$/;

export function isLsn(text: string): boolean {
  return LSN_RE.test(text);
}

export function parseLsn(text: string): bigint {
  const match = LSN_RE.exec(text.trim());
  if (!match) {
    throw new BulwarkError('USAGE', `"${text}" is not a WAL location`, {
      hint: 'write it as PostgreSQL prints it, two hex numbers separated by a slash, e.g. 0/3000060',
    });
  }
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

function hex8(n: number | bigint): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

function checkSegmentSize(segmentSize: number): bigint {
  // PostgreSQL allows powers of two from 1 MB to 1 GB.
  if (!Number.isInteger(segmentSize) || segmentSize < 1 << 20 || segmentSize > 1 << 30 || (segmentSize & (segmentSize - 1)) !== 0) {
    throw new BulwarkError('USAGE', `${segmentSize} is not a valid WAL segment size`, {
      hint: 'WAL segments are a power of two between 1 MB and 1 GB (SHOW wal_segment_size)',
    });
  }
  return BigInt(segmentSize);
}

/** Name of the segment holding the byte at `lsn` (PostgreSQL's XLogFileName after XLByteToSeg). */
export function walFileNameOf(timeline: number, lsn: bigint | string, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): string {
  const size = checkSegmentSize(segmentSize);
  const segno = (typeof lsn === 'string' ? parseLsn(lsn) : lsn) / size;
  const perLog = 0x100000000n / size;
  return `${hex8(timeline)}${hex8(segno / perLog)}${hex8(segno % perLog)}`;
}

/**
 * Name of the last segment needed to reach `lsn` (XLByteToPrevSeg): a backup
 * ending exactly on a segment boundary does not need the next segment.
 */
export function walFileNameBefore(timeline: number, lsn: bigint | string, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): string {
  const value = typeof lsn === 'string' ? parseLsn(lsn) : lsn;
  return walFileNameOf(timeline, value > 0n ? value - 1n : 0n, segmentSize);
}

/** Name of the backup history file PostgreSQL archives when a base backup starting at `startLsn` ends. */
export function backupHistoryFileName(timeline: number, startLsn: bigint | string, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): string {
  const value = typeof startLsn === 'string' ? parseLsn(startLsn) : startLsn;
  return `${walFileNameOf(timeline, value, segmentSize)}.${hex8(value % checkSegmentSize(segmentSize))}.backup`;
}

/** Undefined when `name` is not a file PostgreSQL archives. */
export function parseWalFileName(name: string): WalFileName | undefined {
  const history = HISTORY_RE.exec(name);
  if (history) return { kind: 'history', timeline: parseInt(history[1] ?? '', 16), log: 0, seg: 0 };
  const match = SEGMENT_RE.exec(name);
  if (!match) return undefined;
  const suffix = match[4];
  const kind: WalFileKind = suffix === undefined ? 'segment' : suffix === '.partial' ? 'partial' : 'backup';
  return { kind, timeline: parseInt(match[1] ?? '', 16), log: parseInt(match[2] ?? '', 16), seg: parseInt(match[3] ?? '', 16) };
}

export function isWalFileName(name: string): boolean {
  return parseWalFileName(name) !== undefined;
}

/** Orders by timeline, then position in the WAL. */
export function compareWalPositions(a: WalFileName, b: WalFileName): number {
  return a.timeline - b.timeline || a.log - b.log || a.seg - b.seg;
}

/** Every segment name from `first` to `last` inclusive, same timeline. */
export function segmentRange(first: string, last: string, segmentSize = DEFAULT_WAL_SEGMENT_SIZE): string[] {
  const a = parseWalFileName(first);
  const b = parseWalFileName(last);
  if (a?.kind !== 'segment' || b?.kind !== 'segment' || a.timeline !== b.timeline) {
    throw new BulwarkError('INTERNAL', `cannot list WAL segments from ${first} to ${last}`);
  }
  const perLog = Number(0x100000000n / checkSegmentSize(segmentSize));
  const names: string[] = [];
  for (let n = a.log * perLog + a.seg; n <= b.log * perLog + b.seg; n++) {
    names.push(`${hex8(a.timeline)}${hex8(Math.floor(n / perLog))}${hex8(n % perLog)}`);
  }
  return names;
}
