import { spawn } from 'node:child_process';
import type { Logger } from '../core/logger.js';
import type { DrillOutcome } from '../store/index.js';

/** What a drill run by the scheduler came to; `error` when it produced no report. */
export interface LaunchResult { id?: string; outcome?: DrillOutcome; error?: string }

/** Runs one drill to its end; aborting `signal` asks it to stop (it reverts what it set up). */
export type DrillLauncher = (drill: string, signal: AbortSignal) => Promise<LaunchResult>;

export interface ChildLauncherOptions {
  /** How to run this program: `[node, main.js]`, or with tsx from sources. */
  command: readonly string[];
  configFile: string;
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
}

/** Set in a drill's child process: stop the drill (and revert) when the daemon's end of stdin closes. */
export const DRILL_PARENT_ENV = 'BULWARK_DRILL_PARENT';
const STDERR_KEPT = 4000;

/**
 * Each drill in a child process `bulwark drill run NAME --json`: restoring
 * a GiB decrypts, decompresses and hashes on one thread for minutes, which
 * in the daemon would stall the probes' timers and the API. The child takes
 * the drill lock, journals and records its run like any `drill run`; its
 * stdin is a pipe from the daemon, so a daemon that dies (even SIGKILL)
 * makes the drill stop and revert rather than run on unwatched.
 */
export function childLauncher(options: ChildLauncherOptions): DrillLauncher {
  return (drill, signal) => new Promise<LaunchResult>((resolve) => {
    const [file, ...prefix] = options.command;
    const args = [...prefix, 'drill', 'run', drill, '-c', options.configFile, '--data-dir', options.dataDir, '--json'];
    const child = spawn(file!, args, { env: { ...(options.env ?? process.env), [DRILL_PARENT_ENV]: 'pipe', NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err = (err + chunk).slice(-STDERR_KEPT)));
    const stop = (): void => void child.kill('SIGTERM');
    signal.addEventListener('abort', stop, { once: true });
    options.log.info({ drill, pid: child.pid }, 'drill started in a child process');
    child.once('error', (e) => {
      signal.removeEventListener('abort', stop);
      resolve({ error: `could not start the drill process: ${e.message}` });
    });
    child.once('close', (code, sig) => {
      signal.removeEventListener('abort', stop);
      resolve(parseResult(out, err, code, sig));
    });
  });
}

function parseResult(out: string, err: string, code: number | null, signal: NodeJS.Signals | null): LaunchResult {
  try {
    const report = JSON.parse(out) as { id?: unknown; outcome?: unknown };
    if (typeof report.id === 'string' && typeof report.outcome === 'string') return { id: report.id, outcome: report.outcome as DrillOutcome };
  } catch {
    // No report: the process failed before it could write one; stderr says why.
  }
  const ended = signal ? `killed by ${signal}` : `exited with ${code}`;
  const last = err.trim().split('\n').slice(-3).join(' ').trim();
  return { error: `the drill process ${ended}${last ? `: ${last}` : ''}` };
}
