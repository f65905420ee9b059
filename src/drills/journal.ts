/**
 * The revert journal: what a drill has set up that must be undone, written
 * durably before each thing is created. A drill that ends reverts and clears
 * it; a drill killed half-way leaves it, and the next start reverts what it
 * lists and records the drill as aborted.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BulwarkError, errorMessage } from '../core/errors.js';
import type { FaultEntry } from './faults/entries.js';

/** Something a drill made: a sandbox directory, a process it started, a scratch PostgreSQL (found by its data directory's postmaster.pid when no pid was recorded yet). */
export type JournalEntry =
  | { kind: 'dir'; path: string }
  | { kind: 'process'; pid: number; startTicks: number; what: string }
  | { kind: 'postgres'; dataDir: string; pid?: number; startTicks?: number }
  /** Failover drills: the writer's schema on a managed database, dropped on its primary; a member killed, which must be back in the cluster. */
  | { kind: 'pg-schema'; database: string; schema: string }
  | { kind: 'pg-rejoin'; database: string; member: string }
  /** Region drills: the leader moved to another region, switched back to `member` (failback). */
  | { kind: 'pg-failback'; database: string; member: string }

  | FaultEntry;

export interface JournalRun { id: string; drill: string; type: string; startedAt: number }

export interface JournalState { run: JournalRun; entries: JournalEntry[] }

export const JOURNAL_FILE = 'journal.json';

export class RevertJournal {
  private state: JournalState | undefined;

  constructor(readonly path: string) {}

  static in(drillsDir: string): RevertJournal {
    return new RevertJournal(join(drillsDir, JOURNAL_FILE));
  }

  /** What a crashed drill left; undefined when nothing. */
  async read(): Promise<JournalState | undefined> {
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as JournalState;
    } catch (err) {
      throw new BulwarkError('INTERNAL', `the drill revert journal ${this.path} cannot be read: ${errorMessage(err)}`, {
        hint: 'it is written atomically, so this is damage: revert what it names by hand, then delete it',
      });
    }
  }

  /** What is journalled and not yet reverted. */
  get pending(): readonly JournalEntry[] {
    return this.state?.entries ?? [];
  }

  async begin(run: JournalRun): Promise<void> {
    this.state = { run, entries: [] };
    await this.write();
  }

  /** Call before creating what the entry names. */
  async add(entry: JournalEntry): Promise<void> {
    this.current().entries.push(entry);
    await this.write();
  }

  /** Replaces an entry (a PostgreSQL's pid, known once it runs). */
  async update(match: (e: JournalEntry) => boolean, entry: JournalEntry): Promise<void> {
    const state = this.current();
    state.entries = state.entries.map((e) => (match(e) ? entry : e));
    await this.write();
  }

  /** Call after reverting what the entry names. */
  async remove(match: (e: JournalEntry) => boolean): Promise<void> {
    const state = this.current();
    state.entries = state.entries.filter((e) => !match(e));
    await this.write();
  }

  async clear(): Promise<void> {
    this.state = undefined;
    await this.queue;
    await rm(this.path, { force: true });
    await fsyncDir(dirname(this.path));
  }

  private current(): JournalState {
    if (!this.state) throw new BulwarkError('INTERNAL', 'the revert journal was not begun');
    return this.state;
  }

  private queue: Promise<void> = Promise.resolve();

  /** One write at a time, in order: a server's pid may be recorded while the drill goes on. */
  private write(): Promise<void> {
    const snapshot = JSON.stringify(this.state);
    const next = this.queue.then(() => this.writeNow(snapshot));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Temporary file, fsync, rename, fsync the directory: a crash leaves the old journal or the new one. */
  private async writeNow(text: string): Promise<void> {
    const temp = `${this.path}.tmp`;
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${text}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.path);
    await fsyncDir(dirname(this.path));
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
