/**
 * The one etcd server of `bulwark demo db`: a single member on loopback, its data
 * under DATA_DIR/demo-db/etcd so that a later run finds the cluster's keys again.
 * Started through `setpriv --pdeathsig SIGKILL` (as PostgreSQL is) so that it dies
 * with the demo even when the demo is SIGKILLed. One member is a demo: a real
 * deployment runs three, on three hosts (README, "Running etcd").
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import { diesWithParent } from '../core/process.js';

export interface DemoEtcdOptions {
  dataDir: string;
  logFile: string;
  clientPort: number;
  peerPort: number;
  /** Bound on waiting for /health; 60 s by default (a loaded machine, an fsync per write). */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

const INSTALL_HINT = 'install it: apt-get install etcd-server (Debian and Ubuntu; the demo starts its own etcd on free ports, the package\'s service can stay as it is)';

/** The etcd binary on PATH; a clear error when there is none. */
export async function findEtcd(path = process.env.PATH ?? ''): Promise<string> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'etcd');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  throw new BulwarkError('USAGE', 'etcd is not installed (the demo runs one etcd server for leader election): no etcd on PATH', { hint: INSTALL_HINT });
}

export class DemoEtcd {
  readonly clientUrl: string;
  readonly peerUrl: string;
  private exited: Promise<void>;
  private spawnError: Error | undefined;

  private constructor(private readonly child: ChildProcess, readonly o: DemoEtcdOptions) {
    this.clientUrl = `http://127.0.0.1:${o.clientPort}`;
    this.peerUrl = `http://127.0.0.1:${o.peerPort}`;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once('exit', () => resolve());
      child.once('error', (err) => {
        this.spawnError = err;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.spawnError === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  static async start(o: DemoEtcdOptions): Promise<DemoEtcd> {
    const binary = await findEtcd();
    await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
    const client = `http://127.0.0.1:${o.clientPort}`;
    const peer = `http://127.0.0.1:${o.peerPort}`;
    // The --initial-* flags count only at the first start; later starts read the membership from the data directory.
    const args = [
      '--name', 'demo', '--data-dir', o.dataDir,
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `demo=${peer}`, '--initial-cluster-state', 'new', '--initial-cluster-token', 'bulwark-demo',
      '--logger', 'zap', '--log-outputs', 'stderr',
    ];
    const log = await open(o.logFile, 'a');
    let child: ChildProcess;
    try {
      const [cmd, cmdArgs] = diesWithParent([binary, ...args]);
      child = spawn(cmd, cmdArgs, { stdio: ['ignore', log.fd, log.fd], env: withoutEtcdEnv() });
    } finally {
      await log.close();
    }
    const etcd = new DemoEtcd(child, o);
    try {
      await etcd.waitHealthy(o.startTimeoutMs ?? 60_000, o.signal);
    } catch (err) {
      await etcd.stop();
      throw err;
    }
    return etcd;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Safe to call twice. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      this.child.kill('SIGTERM');
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Synchronous, for `process.on('exit')`. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  private async waitHealthy(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const deadline = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]);
    for (;;) {
      if (!this.running) throw new BulwarkError('BACKEND_UNAVAILABLE', `etcd exited at start (${this.spawnError?.message ?? this.child.signalCode ?? `code ${String(this.child.exitCode)}`}):\n${await this.logTail()}`, {
        hint: `its log is ${this.o.logFile}`,
      });
      try {
        const res = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.any([deadline, AbortSignal.timeout(1_000)]) });
        if (((await res.json()) as { health?: string }).health === 'true') return;
      } catch {
        // not listening yet, or no leader yet
      }
      signal?.throwIfAborted();
      if (deadline.aborted) {
        throw new BulwarkError('BACKEND_UNAVAILABLE', `etcd on ${this.clientUrl} was not healthy within ${timeoutMs / 1000} s:\n${await this.logTail()}`, {
          hint: `its log is ${this.o.logFile}`,
        });
      }
      // etcd announces nothing when it is ready: /health is the only way to know.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async logTail(lines = 10): Promise<string> {
    const text = await readFile(this.o.logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }
}

/** ETCD_* variables in the environment would override the flags. */
function withoutEtcdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
}
