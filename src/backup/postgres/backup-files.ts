/**
 * Parsers for what PostgreSQL writes about a base backup: `backup_label`,
 * `backup_manifest` and the archived backup history file (`*.backup`).
 */
import { BulwarkError } from '../../core/errors.js';
import { formatLsn, parseLsn } from './wal-names.js';

export interface BackupLabel {
  startLsn: string;
  startWalFile: string;
  checkpointLsn: string | undefined;
  /** Undefined when PostgreSQL wrote it in a time zone we cannot read (log_timezone abbreviations). */
  startTime: Date | undefined;
  label: string;
  timeline: number;
}

export interface WalRange {
  timeline: number;
  startLsn: string;
  endLsn: string;
}

export interface BackupHistory {
  stopLsn: string;
  stopWalFile: string;
  stopTime: Date | undefined;
}

function malformed(what: string, detail: string): BulwarkError {
  return new BulwarkError('INTERNAL', `${what} is not in the format this version of Bulwark reads: ${detail}`, {
    hint: 'check that pg_basebackup and the server are PostgreSQL 13 or newer; report this if they are',
  });
}

function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) map.set(line.slice(0, colon).trim(), line.slice(colon + 2).trim());
  }
  return map;
}

/** `0/2000028 (file 000000010000000000000002)` */
function locationField(map: Map<string, string>, key: string, what: string): { lsn: string; file: string } {
  const match = /^([0-9A-Fa-f]+\/[0-9A-Fa-f]+) \(file ([0-9A-F]{24})\)$/.exec(map.get(key) ?? '');
  if (!match?.[1] || !match[2]) throw malformed(what, `no valid ${key} line`);
  return { lsn: formatLsn(parseLsn(match[1])), file: match[2] };
}

const ZONE_NAMES = new Set(['UTC', 'GMT', 'UCT', 'Z', 'ZULU', 'UNIVERSAL']);

/**
 * A timestamp as PostgreSQL prints it: `2024-05-01 12:00:00[.123456]` then a
 * zone (`UTC`, `+00`, `+05:30`, `-0330`). Undefined for zone abbreviations
 * other than UTC's, whose offsets we cannot know.
 */
export function parsePgTimestamp(text: string): Date | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)?\s*([A-Za-z]+|[+-]\d{2}(?::?\d{2})?)$/.exec(text.trim());
  if (!match) return undefined;
  const [, date, time, fraction = '', zone = ''] = match;
  let offset: string;
  if (ZONE_NAMES.has(zone.toUpperCase())) offset = 'Z';
  else if (/^[+-]/.test(zone)) offset = `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '') || '00'}`;
  else return undefined;
  const ms = fraction ? `.${fraction.slice(1, 4).padEnd(3, '0')}` : '';
  const parsed = new Date(`${date}T${time}${ms}${offset}`);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

export function parseBackupLabel(text: string): BackupLabel {
  const map = fields(text);
  const start = locationField(map, 'START WAL LOCATION', 'backup_label');
  const checkpoint = map.get('CHECKPOINT LOCATION');
  const timeline = Number(map.get('START TIMELINE') ?? parseInt(start.file.slice(0, 8), 16));
  if (!Number.isInteger(timeline) || timeline < 1) throw malformed('backup_label', 'no valid START TIMELINE line');
  return {
    startLsn: start.lsn,
    startWalFile: start.file,
    checkpointLsn: checkpoint ? formatLsn(parseLsn(checkpoint)) : undefined,
    startTime: parsePgTimestamp(map.get('START TIME') ?? ''),
    label: map.get('LABEL') ?? '',
    timeline,
  };
}

/** The WAL-Ranges of a backup_manifest: the WAL needed to make the backup consistent. */
export function parseManifestWalRanges(text: string): WalRange[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (err) {
    throw malformed('backup_manifest', `not JSON (${(err as Error).message})`);
  }
  const ranges = (manifest as { 'WAL-Ranges'?: unknown } | null)?.['WAL-Ranges'];
  if (!Array.isArray(ranges) || ranges.length === 0) throw malformed('backup_manifest', 'no WAL-Ranges');
  return ranges.map((range: Record<string, unknown>) => {
    const { Timeline: timeline, 'Start-LSN': startLsn, 'End-LSN': endLsn } = range;
    if (typeof timeline !== 'number' || typeof startLsn !== 'string' || typeof endLsn !== 'string') {
      throw malformed('backup_manifest', 'a WAL range lacks Timeline, Start-LSN or End-LSN');
    }
    return { timeline, startLsn: formatLsn(parseLsn(startLsn)), endLsn: formatLsn(parseLsn(endLsn)) };
  });
}

export function parseBackupHistory(text: string): BackupHistory {
  const map = fields(text);
  const stop = locationField(map, 'STOP WAL LOCATION', 'backup history file');
  return { stopLsn: stop.lsn, stopWalFile: stop.file, stopTime: parsePgTimestamp(map.get('STOP TIME') ?? '') };
}
