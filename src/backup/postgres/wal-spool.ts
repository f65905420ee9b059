/**
 * The spool of asynchronous WAL archiving: one folder per policy where the
 * archiver leaves an outcome for each WAL file it handled, `NAME.ok` once the
 * file is durable in every repository and `NAME.error` when it is not. The
 * WAL itself never goes into the spool: it stays in pg_wal, which PostgreSQL
 * keeps until archive_command reports success.
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { errnoCode } from '../../core/errors.js';
import { isWalFileName } from './wal-names.js';
import { processAlive } from '../../core/process.js';

export type SpoolOutcome = { kind: 'ok' } | { kind: 'error'; message: string; at: number };

export interface ArchiverStatus {
  pid: number;
  updatedAt: string;
  /** Files PostgreSQL has marked ready and the archiver has not stored yet. */
  pending: number;
  /** When the oldest of them was marked ready (ISO), or null. */
  oldestPendingSince: string | null;
  lastArchived: string | null;
  lastArchivedAt: string | null;
  archived: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

export class WalSpool {
  readonly dir: string;

  constructor(root: string, policy: string) {
    this.dir = join(root, policy);
  }

  async create(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  okPath(name: string): string {
    return join(this.dir, `${name}.ok`);
  }

  errorPath(name: string): string {
    return join(this.dir, `${name}.error`);
  }

  get pidPath(): string {
    return join(this.dir, 'archiver.pid');
  }

  /** The pid in the archiver's pid file, if any. */
  async archiverPid(): Promise<number | undefined> {
    try {
      const pid = Number((await readFile(this.pidPath, 'utf8')).trim());
      return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether the process named in the pid file is alive (EPERM: alive, but another user's). */
  async archiverAlive(): Promise<boolean> {
    const pid = await this.archiverPid();
    return pid !== undefined && processAlive(pid);
  }

  get logPath(): string {
    return join(this.dir, 'archiver.log');
  }

  get statusPath(): string {
    return join(this.dir, 'status.json');
  }

  /**
   * The outcome for the WAL file at `walPath`. An `.ok` older than the WAL file
   * is stale (a recycled name, or another cluster's), so it does not count:
   * the same rule as archive_command's shell fast path (`test SPOOL/%f.ok -nt %p`).
   */
  async outcome(name: string, walPath: string): Promise<SpoolOutcome | undefined> {
    const [ok, wal] = await Promise.all([mtimeNs(this.okPath(name)), mtimeNs(walPath)]);
    if (ok !== undefined && wal !== undefined && ok > wal) return { kind: 'ok' };
    try {
      const path = this.errorPath(name);
      const [message, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      return { kind: 'error', message, at: info.mtimeMs };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      return undefined;
    }
  }

  /** Durable before it is visible: PostgreSQL may drop its copy of the WAL as soon as it sees this file. */
  async markOk(name: string): Promise<void> {
    await this.writeDurably(this.okPath(name), `${new Date().toISOString()}\n`);
    await rm(this.errorPath(name), { force: true });
  }

  async markError(name: string, message: string): Promise<void> {
    await this.writeDurably(this.errorPath(name), message);
  }

  async clearError(name: string): Promise<void> {
    await rm(this.errorPath(name), { force: true });
  }

  /** Removes outcomes of files PostgreSQL no longer asks about (archived, then recycled or removed). */
  async forgetAllBut(ready: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    for (const entry of await this.entries()) {
      const match = /^(.+)\.(ok|error)$/.exec(entry);
      if (!match || !isWalFileName(match[1]!) || ready.has(match[1]!)) continue;
      await rm(join(this.dir, entry), { force: true });
      removed++;
    }
    return removed;
  }

  async writeStatus(status: ArchiverStatus): Promise<void> {
    const temp = `${this.statusPath}.${randomBytes(4).toString('hex')}`;
    await writeFile(temp, `${JSON.stringify(status)}\n`, { mode: 0o644 });
    await rename(temp, this.statusPath);
  }

  async readStatus(): Promise<ArchiverStatus | undefined> {
    try {
      return JSON.parse(await readFile(this.statusPath, 'utf8')) as ArchiverStatus;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  private async entries(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  private async writeDurably(path: string, content: string): Promise<void> {
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

async function mtimeNs(path: string): Promise<bigint | undefined> {
  try {
    return (await stat(path, { bigint: true })).mtimeNs;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * WAL files PostgreSQL has marked ready for archiving (pg_wal/archive_status/NAME.ready), with when they were marked.
 * A long-lived caller passes `known`, the times already read (kept up to date here), so each file is stat()ed once.
 */
export async function listReady(pgWal: string, known?: Map<string, number>): Promise<Array<{ name: string; since: number }>> {
  const statusDir = join(pgWal, 'archive_status');
  let entries: string[];
  try {
    entries = await readdir(statusDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const ready = entries.filter((e) => e.endsWith('.ready')).map((e) => e.slice(0, -'.ready'.length)).filter(isWalFileName).sort();
  const out: Array<{ name: string; since: number }> = [];
  for (const name of ready) {
    const since = known?.get(name);
    if (since !== undefined) {
      out.push({ name, since });
      continue;
    }
    try {
      out.push({ name, since: (await stat(join(statusDir, `${name}.ready`))).mtimeMs });
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err; // archived meanwhile
    }
  }
  if (known) {
    known.clear();
    for (const { name, since } of out) known.set(name, since);
  }
  return out;
}
