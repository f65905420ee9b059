/**
 * HAProxy in master-worker mode (`-W -S master.sock`) as a supervised child of
 * the daemon: started through `setpriv --pdeathsig SIGKILL` (it dies with the
 * daemon), ready once a worker answers on the stats socket, reloaded through
 * the master CLI (the new worker takes over the listening sockets, the old one
 * finishes its connections: no connection is refused or dropped), and started
 * again after a crash (1 s, doubling up to 30 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { diesWithParent, keepOutputTail, stopChild } from '../../core/process.js';
import { sleep } from '../../core/time.js';
import type { HaproxyFiles } from './files.js';
import { showProc, type ProcessList } from './master-cli.js';
import { haproxyCommand } from './runtime-api.js';

const READY_TIMEOUT_MS = 15_000;
const MAX_BACKOFF_MS = 30_000;
/** The socket appears a moment after the process starts; HAProxy offers no event to wait on, so its answer is polled. */
const POLL_MS = 25;
const NONE: ProcessList = { master: undefined, workers: [], failedReloads: 0 };

export interface HaproxyProcessOptions {
  bin: string;
  files: HaproxyFiles;
  log: Logger;
  /** After a restart following a crash or a reload: the caller re-applies the runtime state. */
  onNewWorker?: () => void;
}

export class HaproxyProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private stopped = false;
  private backoffMs = 1000;

  constructor(private readonly o: HaproxyProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** HAProxy's last lines, for error messages. */
  recentOutput(): string {
    return this.output;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const child = this.spawnChild();
    await this.waitForWorker(child, NONE);
    this.o.log.info({ pid: child.pid, config: this.o.files.config }, 'HAProxy started');
  }

  /**
   * Re-reads the configuration file: the master starts a new worker on it and
   * the old worker stops accepting and finishes its connections (hard-stop-after
   * 30 s). Resolves once the new worker answers on the stats socket.
   */
  async reload(): Promise<void> {
    const child = this.child;
    if (!child) throw new BulwarkError('NOT_READY', 'HAProxy is not running');
    const before = await showProc(this.o.files.masterSocket);
    // The master re-executes itself and closes this connection without an answer (2.6).
    await haproxyCommand(this.o.files.masterSocket, 'reload').catch(() => '');
    const after = await this.waitForWorker(child, before);
    if (after.failedReloads > before.failedReloads) throw new BulwarkError('CONFIG_INVALID', `HAProxy refused the new configuration and kept the old one: ${this.tail()}`);
    this.o.log.info({ workers: after.workers }, 'HAProxy reloaded');
    this.o.onNewWorker?.();
  }

  /** SIGUSR1 to the master: workers stop accepting and finish their connections; SIGKILL when `deadline` aborts (or after 10 s). */
  async stop(deadline?: AbortSignal): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await stopChild(child, 'SIGUSR1', 10_000, deadline);
  }

  private spawnChild(): ChildProcess {
    const haproxy = [this.o.bin, '-W', '-S', `${this.o.files.masterSocket},mode,600`, '-f', this.o.files.config];
    const [cmd, args] = diesWithParent(haproxy);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    keepOutputTail(child, 8192, (tail) => (this.output = tail));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    this.child = child;
    return child;
  }

  private tail(): string {
    return this.output.trim().split('\n').filter((l) => /ALERT|WARNING/.test(l)).slice(-3).join(' | ') || 'no output';
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopped || child !== this.child) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.o.log.error({ code, signal, restartInMs: delay, haproxy: this.output.trim().split('\n').slice(-5) }, 'HAProxy exited; starting it again');
    void sleep(delay).then(async () => {
      if (this.stopped) return;
      const next = this.spawnChild();
      try {
        await this.waitForWorker(next, NONE);
        this.backoffMs = 1000;
        this.o.log.info({ pid: next.pid }, 'HAProxy started again');
        this.o.onNewWorker?.();
      } catch (err) {
        this.o.log.error({ err: errorMessage(err) }, 'HAProxy did not come back');
      }
    });
  }

  /** Until the master lists a worker that `old` did not (or a failed reload) and the stats socket answers. */
  private async waitForWorker(child: ChildProcess, old: ProcessList): Promise<ProcessList> {
    const until = performance.now() + READY_TIMEOUT_MS;
    while (performance.now() < until && child.exitCode === null && child.signalCode === null) {
      try {
        const list = await showProc(this.o.files.masterSocket, 1000);
        if (list.workers.some((pid) => !old.workers.includes(pid)) || list.failedReloads > old.failedReloads) {
          await haproxyCommand(this.o.files.statsSocket, 'show info', 1000);
          return list;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(POLL_MS);
    }
    if (child.exitCode === null && child.signalCode === null && old.workers.length === 0) child.kill('SIGKILL');
    throw new BulwarkError('INTERNAL', `HAProxy did not start a worker: ${this.tail()}`, {
      hint: 'see its last lines above; a listen address in use is the usual cause (services.NAME.listen)',
    });
  }
}
