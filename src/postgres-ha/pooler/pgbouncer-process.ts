/**
 * One supervised `pgbouncer` child: started through `setpriv --pdeathsig
 * SIGKILL` (it dies with the daemon, as the PostgreSQL members do), as the
 * `run_as` user when the daemon is root (PgBouncer refuses to run as root),
 * ready once its admin console answers, and started again after a crash
 * (1 s, doubling up to 30 s). Its log lines (stderr) are kept for errors.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BulwarkError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { diesWithParent, keepOutputTail, stopChild } from '../../core/process.js';
import { sleep } from '../../core/time.js';
import type { RunAs } from '../postgres-process.js';
import { adminCommand, type AdminEndpoint } from './admin-console.js';

const READY_TIMEOUT_MS = 15_000;
const MAX_BACKOFF_MS = 30_000;

export interface PgBouncerProcessOptions {
  bin: string | undefined;
  ini: string;
  runAs: RunAs | undefined;
  admin: AdminEndpoint;
  log: Logger;
  /** After a restart following a crash: the caller re-applies what it knows (primary, pause). */
  onRestarted?: () => void;
}

export function findPgBouncer(bin: string | undefined): string {
  if (bin !== undefined) {
    if (!existsSync(bin)) throw new BulwarkError('USAGE', `pooler.bin: ${bin} does not exist`, { hint: 'point it at the pgbouncer binary, or remove it to use /usr/sbin/pgbouncer' });
    return bin;
  }
  const found = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'].find((p) => existsSync(p));
  if (!found) throw new BulwarkError('USAGE', 'a database has postgres.pooler, but PgBouncer is not installed on this host', { hint: 'apt-get install pgbouncer (Debian/Ubuntu), or set pooler.bin' });
  return found;
}

export class PgBouncerProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private stopped = false;
  private backoffMs = 1000;
  private readonly bin: string;

  constructor(private readonly o: PgBouncerProcessOptions) {
    this.bin = findPgBouncer(o.bin);
  }

  /** PgBouncer's last lines, for error messages. */
  recentOutput(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const child = this.spawnChild();
    await this.waitReady(child);
    this.o.log.info({ pid: child.pid, listen: `${this.o.admin.host}:${this.o.admin.port}` }, 'PgBouncer started');
  }

  /** SIGTERM (PgBouncer 1.18: immediate shutdown); SIGKILL if it is still there after 5 s or when `deadline` aborts. */
  async stop(deadline?: AbortSignal): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await stopChild(child, 'SIGTERM', 5000, deadline);
  }

  private spawnChild(): ChildProcess {
    const [cmd, args] = diesWithParent([this.bin, this.o.ini]);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(this.o.runAs ?? {}) });
    this.output = '';
    keepOutputTail(child, 8192, (tail) => (this.output = tail));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    this.child = child;
    return child;
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopped || child !== this.child) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.o.log.error({ code, signal, restartInMs: delay, pgbouncer: this.output.trim().split('\n').slice(-5) }, 'PgBouncer exited; starting it again');
    void sleep(delay).then(async () => {
      if (this.stopped) return;
      const next = this.spawnChild();
      try {
        await this.waitReady(next);
        this.backoffMs = 1000;
        this.o.log.info({ pid: next.pid }, 'PgBouncer started again');
        this.o.onRestarted?.();
      } catch (err) {
        this.o.log.error({ err: errorMessage(err) }, 'PgBouncer did not come back');
      }
    });
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const until = performance.now() + READY_TIMEOUT_MS;
    while (performance.now() < until) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        await adminCommand(this.o.admin, 'SHOW VERSION', 1000);
        return;
      } catch {
        await sleep(50);
      }
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw new BulwarkError('INTERNAL', `PgBouncer did not start: ${this.output.trim().split('\n').slice(-3).join(' | ') || 'no output'}`, {
      hint: 'see its last lines above; a port in use is the usual cause (pooler.listen)',
    });
  }
}
