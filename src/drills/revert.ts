import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { revertFaultEntry } from './faults/revert-fault.js';
import type { JournalEntry } from './journal.js';
import type { RevertEnv } from './revert-database.js';
import { killChecked, processStartTicks, startEpochSeconds } from './proc.js';

export interface RevertOutcome { entry: JournalEntry; done: boolean; detail: string }

/** Grace before SIGKILL: a scratch PostgreSQL holds nothing worth a clean shutdown. */
const PROCESS_GRACE_MS = 5_000;

/** Reverts entries newest first (a server before the directory it runs in); one failure does not stop the others. */
export async function revertAll(entries: readonly JournalEntry[], env: RevertEnv = {}): Promise<RevertOutcome[]> {
  const out: RevertOutcome[] = [];
  for (const entry of [...entries].reverse()) {
    try {
      out.push({ entry, done: true, detail: await revertEntry(entry, env) });
    } catch (err) {
      out.push({ entry, done: false, detail: errorMessage(err) });
    }
  }
  return out;
}

export async function revertEntry(entry: JournalEntry, env: RevertEnv = {}): Promise<string> {
  switch (entry.kind) {
    case 'dir':
      await rm(entry.path, { recursive: true, force: true });
      return `removed ${entry.path}`;
    case 'process':
      return (await killChecked(entry.pid, entry.startTicks, 'SIGTERM', PROCESS_GRACE_MS))
        ? `stopped ${entry.what} (pid ${entry.pid})`
        : `${entry.what} (pid ${entry.pid}) was no longer running`;
    case 'postgres':
      return stopScratchPostgres(entry);
    case 'pg-schema':
    case 'pg-rejoin':
    case 'pg-failback':
      // Loaded on use: it brings postgres-ha and the pg client, which a restore drill's replay never needs.
      return (await import('./revert-database.js')).revertDatabaseEntry(entry, env);
    default:
      return revertFaultEntry(entry);
  }
}

/**
 * A scratch PostgreSQL: by the pid the drill recorded, else by its data
 * directory's postmaster.pid, whose third line is the start time (seconds
 * since the epoch) checked against the process's.
 */
async function stopScratchPostgres(entry: Extract<JournalEntry, { kind: 'postgres' }>): Promise<string> {
  const found = entry.pid !== undefined ? { pid: entry.pid, startTicks: entry.startTicks } : await fromPidFile(entry.dataDir);
  if (!found) return `no PostgreSQL was running in ${entry.dataDir}`;
  const stopped = await killChecked(found.pid, found.startTicks, 'SIGQUIT', PROCESS_GRACE_MS);
  return stopped ? `stopped the scratch PostgreSQL (pid ${found.pid}) of ${entry.dataDir}` : `the scratch PostgreSQL of ${entry.dataDir} was no longer running`;
}

async function fromPidFile(dataDir: string): Promise<{ pid: number; startTicks: number | undefined } | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const [pidLine, , startLine] = text.split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const ticks = await processStartTicks(pid);
  if (ticks === undefined) return undefined;
  const startedAt = await startEpochSeconds(ticks);
  // postmaster.pid records the start in whole seconds, written just after the process began.
  return Math.abs(startedAt - Number(startLine)) <= 2 ? { pid, startTicks: ticks } : undefined;
}
