/**
 * Telling "the process we started" from "a process that now has its pid": a
 * pid is reused after its process dies, so a kill at replay checks the start
 * time the journal recorded (Linux: field 22 of /proc/PID/stat, clock ticks
 * since boot). Without /proc nothing is killed: a wrong kill is worse than a
 * leftover process, which the report then names.
 */
import { readFile } from 'node:fs/promises';
import { errnoCode } from '../core/errors.js';
import { sleep } from '../core/time.js';

/** The start time of a process in clock ticks since boot; undefined when it does not exist (or there is no /proc). */
export async function processStartTicks(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // A zombie has died already; only its parent's wait is missing.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const ticks = Number(fields[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** When a process that started `startTicks` after boot started, in seconds since the epoch. */
export async function startEpochSeconds(startTicks: number): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  return Number(/^btime (\d+)$/m.exec(stat)?.[1] ?? NaN) + startTicks / CLOCK_TICKS;
}

/** Whether `pid` is still the process that started at `startTicks`. */
export async function sameProcess(pid: number, startTicks: number | undefined): Promise<boolean> {
  if (startTicks === undefined) return false;
  return (await processStartTicks(pid)) === startTicks;
}

/**
 * Signals the process, then SIGKILL after `graceMs`; resolves once it is gone.
 * Returns false when the pid is no longer that process (nothing was sent).
 */
export async function killChecked(pid: number, startTicks: number | undefined, signal: NodeJS.Signals, graceMs: number): Promise<boolean> {
  if (!(await sameProcess(pid, startTicks))) return false;
  send(pid, signal);
  const deadline = Date.now() + graceMs;
  while (await sameProcess(pid, startTicks)) {
    if (Date.now() >= deadline) send(pid, 'SIGKILL');
    await sleep(50);
  }
  return true;
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
}

