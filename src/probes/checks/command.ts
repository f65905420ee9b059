import { spawn, type ChildProcess } from 'node:child_process';
import { evaluateAll, type Condition } from '../../conditions/index.js';
import { DEFAULT_MAX_BODY_BYTES, type CheckContext, type CheckResult, type CheckType, type Observations } from '../types.js';
import { onDeadline, Stopwatch, timeoutMessage } from './outcome.js';

export interface CommandCheckSpec {
  /** argv; run directly, never through a shell. */
  command: readonly string[];
  /** Added to the daemon's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** When given, they alone decide (`exit_code`, `output`); otherwise exit code 0 passes. */
  conditions?: readonly Condition[];
  /** Bound on kept stdout+stderr; the rest is read and dropped. Default DEFAULT_MAX_BODY_BYTES. */
  maxOutputBytes?: number;
}

type Ending =
  | { kind: 'exited'; exitCode: number | null; signal: NodeJS.Signals | null }
  | { kind: 'timeout' }
  | { kind: 'spawn_failed'; message: string };

const SHOWN_OUTPUT_CHARS = 1024;

export const commandCheck: CheckType<CommandCheckSpec> = { type: 'command', run: runCommandCheck };

export async function runCommandCheck(spec: CommandCheckSpec, context: CheckContext): Promise<CheckResult> {
  const watch = new Stopwatch();
  const [file, ...args] = spec.command;
  if (!file) return watch.fail('error', 'command is empty; give the program and its arguments as a list');
  if (context.signal.aborted) return watch.fail('timeout', timeoutMessage(context));
  const output = new BoundedOutput(spec.maxOutputBytes ?? DEFAULT_MAX_BODY_BYTES);
  const ending = await runProcess(file, args, spec, context, output);
  if (ending.kind === 'timeout') return watch.fail('timeout', timeoutMessage(context));
  if (ending.kind === 'spawn_failed') return watch.fail('error', ending.message);
  return judge(spec, ending, output, watch);
}

function runProcess(file: string, args: string[], spec: CommandCheckSpec, context: CheckContext, output: BoundedOutput): Promise<Ending> {
  return new Promise<Ending>((resolve) => {
    let settled = false;
    let exited = false;
    const settle = (ending: Ending): void => {
      if (settled) return;
      settled = true;
      cleanup();
      killGroup(child);
      resolve(ending);
    };
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env ? { ...process.env, ...spec.env } : process.env,
      // Its own process group, so a timeout kills everything the command started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const cleanup = onDeadline(context, () => {
      killGroup(child);
      // Wait for the kernel to reap it, so no process outlives the result.
      if (exited) settle({ kind: 'timeout' });
      else child.once('exit', () => settle({ kind: 'timeout' }));
    });
    child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));
    child.once('exit', () => (exited = true));
    child.once('error', (error) => settle({ kind: 'spawn_failed', message: `cannot run ${file}: ${error.message}` }));
    child.once('close', (exitCode, signal) => settle({ kind: 'exited', exitCode, signal }));
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

function judge(spec: CommandCheckSpec, ending: Extract<Ending, { kind: 'exited' }>, bounded: BoundedOutput, watch: Stopwatch): CheckResult {
  const output = bounded.text();
  const truncated = bounded.truncated;
  const observations: Observations = { output: output.slice(0, SHOWN_OUTPUT_CHARS) };
  if (ending.exitCode !== null) observations.exitCode = ending.exitCode;
  if (ending.signal) observations.signal = ending.signal;
  if (truncated) observations.outputTruncated = true;
  const conditions = spec.conditions ?? [];
  if (conditions.length > 0) {
    const subject = { exitCode: ending.exitCode ?? undefined, output, observations };
    const failed = evaluateAll(conditions, subject).filter((evaluation) => !evaluation.ok);
    if (failed.length === 0) return watch.pass(observations);
    return watch.fail('condition', `condition failed: ${failed.map((f) => f.detail).join('; ')}`, observations);
  }
  if (ending.exitCode === 0) return watch.pass(observations);
  const how = ending.exitCode === null ? `killed by ${ending.signal}` : `exit code ${ending.exitCode}`;
  const last = lastLine(output);
  return watch.fail('exit_code', last ? `${how}: ${last}` : how, observations);
}

function lastLine(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  return (lines.at(-1) ?? '').slice(0, 200);
}

/** Keeps the first `limit` bytes of stdout and stderr, interleaved as they arrive. */
class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.truncated ||= kept !== chunk;
    this.chunks.push(Buffer.from(kept));
    this.size += kept.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
