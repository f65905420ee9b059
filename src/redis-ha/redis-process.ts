/**
 * One redis-server or Sentinel on this host, as a child of the daemon: its
 * config written once (0600, it holds the password), started, and watched.
 * Passwords live only in the config file, never in the arguments (which `ps`
 * shows) nor in the logs. What to do when it exits unasked is the owner's
 * decision (`onExit`): a crashed master waits for the Sentinels (redis-ha-service.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { RespConnection } from '../core/resp.js';
import { keepOutputTail, stopChild } from '../core/process.js';
import { sleep } from '../core/time.js';

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

export interface RedisProcessOptions {
  kind: 'redis' | 'sentinel';
  name: string;
  host: string;
  port: number;
  dataDir: string;
  /** The config file's text, written only when the file does not exist yet. */
  conf: () => string;
  password?: string;
  log: Logger;
  /** Called when the process exits without stop() having been asked. */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  /** The binary; `redis-server` on PATH by default. */
  binary?: string;
}

export class RedisProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private output = '';

  constructor(private readonly o: RedisProcessOptions) {}

  get name(): string {
    return this.o.name;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get confFile(): string {
    return join(this.o.dataDir, this.o.kind === 'sentinel' ? 'sentinel.conf' : 'redis.conf');
  }

  /** Writes the config if absent, starts the process and waits until it answers PING. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.running) return;
    this.stopping = false;
    await mkdir(this.o.dataDir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.confFile)) await writeFile(this.confFile, this.o.conf(), { mode: 0o600 });
    await chmod(this.confFile, 0o600);
    const args = [this.confFile, ...(this.o.kind === 'sentinel' ? ['--sentinel'] : [])];
    const child = spawn(this.o.binary ?? 'redis-server', args, { cwd: this.o.dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    keepOutputTail(child, 4096, (tail) => (this.output = tail), this.output);
    child.on('error', (err) => this.o.log.error({ [this.o.kind]: this.o.name, err: err.message }, `${this.o.kind} could not be started`));
    child.once('exit', (code, sig) => {
      if (this.child !== child || this.stopping) return;
      this.o.log.warn({ [this.o.kind]: this.o.name, code, signal: sig, output: this.lastLines() }, `${this.o.kind} ${this.o.name} exited`);
      this.o.onExit?.(code, sig);
    });
    await this.waitReady(child, signal);
    this.o.log.info({ [this.o.kind]: this.o.name, pid: child.pid, port: this.o.port }, `${this.o.kind} ${this.o.name} started`);
  }

  /** SIGTERM (Redis saves and exits), SIGKILL after the grace or when `deadline` aborts; safe to call twice. */
  async stop(deadline?: AbortSignal): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT'); // a test may have paused it
    await stopChild(child, 'SIGTERM', STOP_GRACE_MS, deadline);
  }

  private lastLines(): string {
    return this.output.split('\n').slice(-5).join('\n');
  }

  private async waitReady(child: ChildProcess, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (let wait = 10; Date.now() < deadline; wait = Math.min(wait * 2, 200)) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (await this.answersPing()) return;
      await sleep(wait, signal);
    }
    throw new BulwarkError('BACKEND_UNAVAILABLE', `${this.o.kind} ${this.o.name} on port ${this.o.port} did not answer PING: ${this.lastLines() || 'no output'}`, {
      hint: `check ${this.confFile} and that redis-server (Debian package redis-server${this.o.kind === 'sentinel' ? ', or redis-sentinel' : ''}) is installed`,
    });
  }

  private async answersPing(): Promise<boolean> {
    const connection = new RespConnection(this.o.host, this.o.port, 4096);
    try {
      await connection.connected();
      if (this.o.password !== undefined) await connection.command(['AUTH', this.o.password]);
      return (await connection.command(['PING'])) === 'PONG';
    } catch {
      return false;
    } finally {
      connection.destroy();
    }
  }
}
