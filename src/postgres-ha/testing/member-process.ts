/**
 * A member "host" in a child process (`member-runner.ts`): its MemberManager
 * and the PostgreSQL it starts, so a fault can hit both at once, as a crashed
 * or frozen machine would.
 *
 * Why the whole process tree and not the process group: the runner is spawned
 * detached (its own process group), and the postmaster stays in that group,
 * but every PostgreSQL child process (backends, walsenders, checkpointer...)
 * calls setsid() at birth (InitPostmasterChild), so it is in a session and
 * group of its own. `kill(-pgid)` would freeze or kill the manager and the
 * postmaster while the backends and walsenders went on serving their open
 * connections. `kill()`, `pause()` and `resume()` therefore signal every
 * process descending from the runner (walking /proc), freezing the tree
 * first so nothing forks in between.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MemberManagerEvents } from '../member-manager.js';
import type { EpochMs, FromRunner, MemberRunnerConfig, RunnerStatus, ToRunner } from './member-runner.js';

export type MemberProcessEvents = MemberManagerEvents & {
  exit: [info: { code: number | null; signal: NodeJS.Signals | null; at: number }];
  /** The runner's event loop ran again at `at` after not running for `gapMs` (e.g. SIGSTOP until SIGCONT). */
  stall: [info: { gapMs: number; at: number }];
};

export interface MemberProcessOptions {
  /** Every log line of the runner (parsed pino JSON, or `{ msg }` for other output). */
  onLog?: (line: Record<string, unknown>) => void;
  /** Bound on the runner's startup (tsx, PostgreSQL start); 60 s by default. */
  startTimeoutMs?: number;
  /** Run the runner inside this network namespace (`ip netns exec`; root only): a member on another "host". */
  netns?: string;
}

const live = new Set<MemberProcess>();
let exitHookInstalled = false;

/** Converts the runner's epoch time to this process's performance.now() clock. */
export function fromEpoch(at: EpochMs): number {
  return at - performance.timeOrigin;
}

export class MemberProcess extends EventEmitter<MemberProcessEvents> {
  /** The runner's pid, also its process group id. */
  readonly pid: number;
  /** The last status the runner sent (every 100 ms); `at` on this process's clock. */
  status: RunnerStatus = { pgPid: undefined, pgRunning: false, leader: false, fenced: false, at: 0 };
  /** Last stderr of the runner, for error messages. */
  stderr = '';
  readonly exited: Promise<void>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Processes stopped by pause(), to continue in resume(). */
  private paused: number[] = [];

  private constructor(readonly name: string, private readonly child: ChildProcess) {
    super();
    if (child.pid === undefined) throw new Error(`member runner ${name} did not start`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        live.delete(this);
        this.emit('exit', { code, signal, at: performance.now() });
        resolve();
      });
    });
  }

  /** Spawns the runner, sends it the configuration and waits until its manager is started. */
  static async start(config: MemberRunnerConfig, options: MemberProcessOptions = {}): Promise<MemberProcess> {
    const script = fileURLToPath(new URL('./member-runner.ts', import.meta.url));
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const command = [process.execPath, '--import', tsx, script];
    const [file, ...args] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...command] : command;
    const child = spawn(file!, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', detached: true,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const member = new MemberProcess(config.pg.name, child);
    live.add(member);
    installExitHook();
    const onLog = options.onLog ?? (() => undefined);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        onLog(JSON.parse(line) as Record<string, unknown>);
      } catch {
        onLog({ member: member.name, msg: line });
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      member.stderr = `${member.stderr}${line}\n`.slice(-4000);
      onLog({ member: member.name, stream: 'stderr', msg: line });
    });
    child.on('message', (message: FromRunner) => member.receive(message));
    child.send({ type: 'config', config } satisfies ToRunner);

    const timeoutMs = options.startTimeoutMs ?? 60_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`member runner ${member.name} not ready within ${timeoutMs} ms\n${member.stderr}`)), timeoutMs);
        const onMessage = (message: FromRunner): void => {
          if (message.type === 'ready') done(undefined);
          if (message.type === 'failed') done(new Error(`member runner ${member.name} failed: ${message.error}\n${member.stderr}`));
        };
        const onExit = (code: number | null, signal: string | null): void => done(new Error(`member runner ${member.name} exited (${signal ?? code}) during startup\n${member.stderr}`));
        const done = (err: Error | undefined): void => {
          clearTimeout(timer);
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve();
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
      });
    } catch (err) {
      await member.kill().catch(() => undefined);
      throw err;
    }
    return member;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get isLeader(): boolean {
    return this.status.leader;
  }

  get isFenced(): boolean {
    return this.status.fenced;
  }

  /** The runner and every process descending from it (PostgreSQL and all its children), parents first. */
  processTree(): number[] {
    return descendants(this.pid);
  }

  /**
   * The "host" crashes: every process of the tree is stopped, then SIGKILLed, so none of them
   * runs a single instruction after the first is hit. Resolves when all of them are gone.
   * Returns the pids that were killed and when (performance.now()) the freeze began.
   */
  async kill(): Promise<{ pids: number[]; at: number }> {
    const at = performance.now();
    const pids = this.freeze();
    for (const pid of pids) signal(pid, 'SIGKILL');
    this.paused = [];
    await this.exited;
    await waitGone(pids, 10_000);
    return { pids, at };
  }

  /** The "host" freezes (SIGSTOP to the whole tree). Returns the stopped pids and when. */
  pause(): { pids: number[]; at: number } {
    const at = performance.now();
    const pids = this.freeze();
    this.paused = pids;
    return { pids, at };
  }

  /** Continues what pause() stopped, the runner first (a VM resumes all of its processes at once). */
  resume(): number {
    const pids = [...new Set([...this.paused, ...this.processTree()])];
    for (const pid of pids) signal(pid, 'SIGCONT');
    this.paused = [];
    return performance.now();
  }

  /** PostgreSQL's recent output (last 16 KB, as PostgresMember keeps it); '' if the runner does not answer in time. */
  async postgresOutput(timeoutMs = 2000): Promise<string> {
    if (!this.running || !this.child.connected) return '';
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(''), timeoutMs);
      const onMessage = (message: FromRunner): void => {
        if (message.type === 'dump') done(message.output);
      };
      const done = (output: string): void => {
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(output);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'dump' } satisfies ToRunner);
    });
  }

  /**
   * Graceful: the manager stops (a leader stops PostgreSQL and resigns, every member revokes its
   * member key), then PostgreSQL is stopped: `fast` (the default) is a clean shutdown, `immediate`
   * is fencing (crash recovery at the next start). SIGKILL after `timeoutMs`.
   */
  async stop(options: { postgres?: 'fast' | 'immediate'; timeoutMs?: number } = {}): Promise<void> {
    if (!this.running) return;
    const timeoutMs = options.timeoutMs ?? 15_000;
    if (this.child.connected) this.child.send({ type: 'stop', postgres: options.postgres ?? 'fast' } satisfies ToRunner);
    const timer = setTimeout(() => void this.kill(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    await this.kill();
  }

  private receive(message: FromRunner): void {
    switch (message.type) {
      case 'status': {
        const { type: _type, ...status } = message;
        this.status = { ...status, at: fromEpoch(status.at) };
        return;
      }
      case 'stall':
        this.emit('stall', { gapMs: message.gapMs, at: fromEpoch(message.at) });
        return;
      case 'event': {
        const info = message.info as { at?: unknown } | null;
        const local = info !== null && typeof info === 'object' && typeof info.at === 'number' ? { ...info, at: fromEpoch(info.at) } : info;
        (this as EventEmitter).emit(message.name, local);
        return;
      }
      default:
        return;
    }
  }

  /** SIGSTOP to the tree, again until no new process appears (one may fork between reading /proc and the signal). */
  private freeze(): number[] {
    const stopped: number[] = [];
    const seen = new Set<number>();
    for (let round = 0; round < 20; round++) {
      const fresh = this.processTree().filter((p) => !seen.has(p));
      if (fresh.length === 0) break;
      for (const pid of fresh) {
        seen.add(pid);
        if (signal(pid, 'SIGSTOP')) stopped.push(pid);
      }
    }
    return stopped;
  }
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** ppid and state of a process from /proc/<pid>/stat; undefined if it is gone. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces or parentheses itself.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** `root` and every live process descending from it, breadth first. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (!stat || stat.state === 'Z') continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  if (!procStat(root)) return [];
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i] ?? -1) ?? []));
  return out;
}

/** Until every pid is gone or a zombie. */
async function waitGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const left = pids.filter((p) => {
      const s = procStat(p);
      return s !== undefined && s.state !== 'Z';
    });
    if (left.length === 0) return;
    if (performance.now() > until) throw new Error(`processes ${left.join(', ')} still alive ${timeoutMs} ms after SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A test runner that dies mid-test must not leave members behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const m of live) for (const pid of m.processTree()) signal(pid, 'SIGKILL');
  });
}
