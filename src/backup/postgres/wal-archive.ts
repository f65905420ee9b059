/**
 * The WAL side of PostgreSQL continuous archiving: what archive_command and
 * restore_command run, the command strings themselves, and pruning.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BulwarkError, errnoCode, errorMessage } from '../../core/errors.js';
import { commandWord } from './quoting.js';
import { compareWalPositions, DEFAULT_WAL_SEGMENT_SIZE, parseWalFileName, segmentRange } from './wal-names.js';
import { checkWalFileName, type PrunableWalStore, type WalStore } from './wal-store.js';

export { DirectoryWalStore, type PrunableWalStore, type WalStore } from './wal-store.js';

export type ArchiveResult = 'archived' | 'already-archived';
export type FetchResult = 'restored' | 'missing';

/**
 * Exit statuses for the command behind restore_command. PostgreSQL takes any
 * status from 1 to 125 as "no such file" and ends recovery there, promoting
 * with what it has; above 125 it aborts recovery. So a failure to read the
 * archive must exit above 125, or a flaky repository silently cuts a restore short.
 */
export const RESTORE_EXIT = { restored: 0, missing: 1, failed: 126 } as const;

/**
 * archive_command: stores the file at `walPath` (%p) under its file name (%f).
 * PostgreSQL may archive a file again after a crash, so the same content is
 * success; different content under the same name is refused, as its docs require.
 */
export async function archiveSegment(store: WalStore, walPath: string, signal?: AbortSignal): Promise<ArchiveResult> {
  return archiveSegmentToAll([{ name: 'the archive', store }], walPath, signal);
}

export interface ArchiveOptions<S extends WalStore> {
  /** A buffer to read the file into, reused by a long-lived caller (see readWalFile). */
  scratch?: Buffer;
  /** Stores the file in the archives that lack it (one settled result per store, in order); by default each store's `put`. */
  putMissing?: (name: string, data: Buffer, missing: S[], signal?: AbortSignal) => Promise<Array<PromiseSettledResult<void>>>;
}

/**
 * archive_command for several archives: the file is reported archived only
 * when every one of them holds it. Archives are written in parallel; one that
 * fails fails the whole command (PostgreSQL retries it, and the archives that
 * already have the file answer "already archived").
 */
export async function archiveSegmentToAll<S extends WalStore>(stores: ReadonlyArray<{ name: string; store: S }>, walPath: string, signal?: AbortSignal,
  options: ArchiveOptions<S> = {}): Promise<ArchiveResult> {
  const name = basename(walPath);
  checkWalFileName(name);
  const data = await readWalFile(walPath, signal, options.scratch);
  const held = await Promise.allSettled(stores.map(({ store }) => holds(store, name, data, signal)));
  const missing = stores.filter((_, i) => { const r = held[i]!; return r.status === 'fulfilled' && !r.value; }).map(({ store }) => store);
  const putAll = options.putMissing ?? ((file, bytes, lacking, abort) => Promise.allSettled(lacking.map((store) => store.put(file, bytes, abort))));
  const written = missing.length > 0 ? await putAll(name, data, missing, signal) : [];
  const results: Array<PromiseSettledResult<ArchiveResult>> = held.map((r) => {
    if (r.status === 'rejected') return r;
    if (r.value) return { status: 'fulfilled', value: 'already-archived' };
    const put = written.shift()!;
    return put.status === 'rejected' ? put : { status: 'fulfilled', value: 'archived' };
  });
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ archive: stores[i]!.name, error: r.reason as unknown }] : []));
  if (failed.length === 1 && stores.length === 1) throw failed[0]!.error;
  if (failed.length > 0) {
    const first = failed[0]!.error;
    throw new BulwarkError(first instanceof BulwarkError ? first.code : 'BACKEND_UNAVAILABLE',
      `${name} is not archived in ${failed.map((f) => `${f.archive} (${f.error instanceof BulwarkError ? f.error.message : errorMessage(f.error)})`).join(', ')}`, {
        hint: 'PostgreSQL keeps the file and retries; fix the repository named, and WAL stays in pg_wal until then (watch its disk)',
        cause: first,
      });
  }
  return results.every((r) => r.status === 'fulfilled' && r.value === 'already-archived') ? 'already-archived' : 'archived';
}

/**
 * One read of the whole file into one buffer: fs.readFile reads in 512 KiB
 * steps, and a fresh 16 MiB buffer costs more in page faults than reading
 * into it, so a long-lived caller passes a `scratch` buffer to reuse.
 */
async function readWalFile(walPath: string, signal?: AbortSignal, scratch?: Buffer): Promise<Buffer> {
  try {
    signal?.throwIfAborted();
    const handle = await open(walPath, 'r');
    try {
      const { size } = await handle.stat();
      const data = scratch && scratch.length >= size ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
      let offset = 0;
      while (offset < size) {
        const { bytesRead } = await handle.read(data, offset, size - offset, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
      }
      return offset === size ? data : data.subarray(0, offset);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
    throw new BulwarkError('NOT_FOUND', `WAL file ${walPath} does not exist`, {
      hint: 'archive_command must pass %p, the path PostgreSQL gives relative to its data directory',
      cause: err,
    });
  }
}

/** Whether `store` already holds this very file; throws when it holds a different one under the name. */
async function holds(store: WalStore, name: string, data: Buffer, signal?: AbortSignal): Promise<boolean> {
  const existing = await store.get(name, signal);
  if (existing === undefined) return false;
  if (existing.equals(data)) return true;
  throw new BulwarkError('USAGE', `the WAL archive already holds a different ${name}; refusing to overwrite it`, {
    hint: 'each cluster needs its own archive: check that no other cluster (or a restored copy of this one) '
      + 'archives to the same place. PostgreSQL keeps retrying this file and keeps its WAL until this is resolved',
    context: { name },
  });
}

/**
 * restore_command: writes the archived `name` (%f) to `destPath` (%p).
 * PostgreSQL asks for files that do not exist yet (the next segment, newer
 * timelines), so a missing file is an ordinary result, not an error.
 */
export async function fetchSegment(store: WalStore, name: string, destPath: string, signal?: AbortSignal): Promise<FetchResult> {
  checkWalFileName(name);
  const data = await store.get(name, signal);
  if (data === undefined) return 'missing';
  return writeRestoredSegment(data, destPath, signal);
}

/** Writes a fetched WAL file where PostgreSQL asked for it (%p), atomically. */
export async function writeRestoredSegment(data: Buffer, destPath: string, signal?: AbortSignal): Promise<'restored'> {
  // PostgreSQL checks the size of what it gets; never let it see a half-written file.
  const temp = join(dirname(destPath), `.bulwark-restore-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, data, { mode: 0o600, signal });
    await rename(temp, destPath);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return 'restored';
}

function commandPrefix(cliPrefix: string[]): string {
  if (cliPrefix.length === 0) throw new BulwarkError('INTERNAL', 'the command prefix for archive/restore commands is empty');
  return cliPrefix.map(commandWord).join(' ');
}

/**
 * `archive_command` value: `<prefix> wal archive <policy> %p`, quoted for
 * /bin/sh and PostgreSQL's % escapes.
 *
 * With a spool (asynchronous archiving) the shell answers first: while the
 * policy's archiver runs and has reported no error for this file, it waits for
 * the file's `.ok` to appear (newer than the WAL file, so never a stale one),
 * polling every 20 ms for at most `waitSeconds`. A Node process starts only
 * when no archiver runs (it starts one), on an error, or at that limit:
 * starting Node for every segment cost more CPU than archiving it.
 */
export function archiveCommand(cliPrefix: string[], policy: string, spool?: { root: string; suffix?: string; waitSeconds?: number }): string {
  const command = `${commandPrefix(cliPrefix)} wal archive ${commandWord(policy)} %p${spool?.suffix ?? ''}`;
  if (!spool) return command;
  const dir = commandWord(join(spool.root, policy));
  const polls = Math.round((spool.waitSeconds ?? 60) / 0.02);
  // The pid is read once: each turn of the loop then forks only `sleep` (while draining a backlog the
  // archiver is usually ahead, and the first test answers with no fork at all). An archiver that exits
  // meanwhile ends the loop; the command behind it starts the next one.
  return `d=${dir}; [ "$d/%f.ok" -nt %p ] && exit 0; p=$(cat "$d/archiver.pid" 2>/dev/null); i=0; `
    + `while [ $i -lt ${polls} ] && [ ! -e "$d/%f.error" ] && kill -0 "$p" 2>/dev/null; `
    + `do [ "$d/%f.ok" -nt %p ] && exit 0; sleep 0.02; i=$((i+1)); done; [ "$d/%f.ok" -nt %p ] || exec ${command}`;
}

/** `restore_command` value: `<prefix> wal restore <policy> %f %p`. */
export function restoreCommand(cliPrefix: string[], policy: string): string {
  return `${commandPrefix(cliPrefix)} wal restore ${commandWord(policy)} %f %p`;
}

/**
 * Removes WAL that no kept base backup needs: every segment, partial segment
 * and backup history file ordered (timeline, then position) before the start
 * segment of the oldest kept backup. Timeline history files are always kept:
 * recovery reads them to follow timeline switches. Returns the removed names.
 */
export async function pruneWal(store: PrunableWalStore, oldestKeptStartWalFile: string, signal?: AbortSignal): Promise<string[]> {
  const keep = parseWalFileName(oldestKeptStartWalFile);
  if (keep?.kind !== 'segment') {
    throw new BulwarkError('USAGE', `"${oldestKeptStartWalFile}" is not a WAL segment name`, {
      hint: 'pass the start WAL file of the oldest base backup you keep, e.g. 000000010000000000000003',
    });
  }
  const removed: string[] = [];
  for (const name of await store.list(signal)) {
    const file = parseWalFileName(name);
    if (!file || file.kind === 'history' || compareWalPositions(file, keep) >= 0) continue;
    await store.remove(name, signal);
    removed.push(name);
  }
  return removed;
}

/**
 * Segments missing from the archive between `fromWalFile` and the newest
 * archived segment of its timeline (and, for each later timeline, between its
 * first and newest segment). Recovery to `latest` stops silently at the first
 * gap, so check this before trusting it.
 */
export async function findWalGaps(store: WalStore, fromWalFile: string, walSegmentSize = DEFAULT_WAL_SEGMENT_SIZE,
  signal?: AbortSignal): Promise<string[]> {
  const from = parseWalFileName(fromWalFile);
  if (from?.kind !== 'segment') throw new BulwarkError('USAGE', `"${fromWalFile}" is not a WAL segment name`);
  const byTimeline = new Map<number, string[]>([[from.timeline, []]]);
  for (const name of await store.list(signal)) {
    const file = parseWalFileName(name);
    if (file?.kind !== 'segment' || compareWalPositions(file, from) < 0) continue;
    byTimeline.set(file.timeline, [...(byTimeline.get(file.timeline) ?? []), name]);
  }
  const missing: string[] = [];
  for (const [timeline, names] of byTimeline) {
    const present = new Set(names);
    const sorted = [...names].sort();
    const first = timeline === from.timeline ? fromWalFile : sorted[0] ?? fromWalFile;
    const last = sorted[sorted.length - 1] ?? fromWalFile;
    missing.push(...segmentRange(first, last, walSegmentSize).filter((name) => !present.has(name)));
  }
  return missing;
}
