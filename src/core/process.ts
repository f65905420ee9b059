import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { errnoCode } from './errors.js';

/** Whether a process with this pid exists (one owned by another user counts: EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * The command and arguments that run `argv` so that it dies with this process
 * (`setpriv --pdeathsig SIGKILL` where util-linux has it): a SIGKILLed daemon must
 * not leave a child holding its port or data directory.
 */
export function diesWithParent(argv: readonly string[]): [string, string[]] {
  const full = SETPRIV ? [SETPRIV, '--pdeathsig', 'SIGKILL', '--', ...argv] : [...argv];
  return [full[0] as string, full.slice(1)];
}

/** Sends `signal`, then SIGKILL after `graceMs` or when `deadline` aborts; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number, deadline?: AbortSignal): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const kill = (): void => void child.kill('SIGKILL');
  deadline?.addEventListener('abort', kill, { once: true });
  const timer = setTimeout(kill, graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
    deadline?.removeEventListener('abort', kill);
  }
}

/**
 * Keeps the last `max` characters of a child's stdout and stderr, in arrival order, for error
 * messages; `set` receives the tail after each chunk, which continues from `tail`.
 */
export function keepOutputTail(child: ChildProcess, max: number, set: (tail: string) => void, tail = ''): void {
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-max);
    set(tail);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}
