import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SECRET = 's3cr3t-value-xyz';

export function configYaml(name = 'test-one', extra = ''): string {
  return `name: ${name}
sla_tiers:
  standard: { availability: 90%, rto: 4h, rpo: 24h }
zones:
  z1: { region: local }
services:
  api:
    tier: standard
    endpoints:
      - { url: http://127.0.0.1:8081, zone: z1 }
      - { url: http://127.0.0.1:8082, zone: z1 }
backups:
  repositories:
    x: { path: ./backups, password: "\${env:TEST_SECRET}" }
${extra}`;
}

/** A free TCP port on 127.0.0.1: bind port 0, read it, release it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no port'));
      server.close(() => resolve(address.port));
    });
  });
}

export interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or null plus the signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Tracks every child process and temp dir a test creates, so afterEach can
 * SIGKILL leftovers and remove directories whatever the test did.
 */
export class Harness {
  private readonly procs: Proc[] = [];
  private readonly dirs: string[] = [];

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-daemon-test-'));
    this.dirs.push(dir);
    return dir;
  }

  spawn(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    const proc: Proc = { child, stdout: () => out, stderr: () => err, exited };
    this.procs.push(proc);
    return proc;
  }

  /** Run a short CLI command to completion (bounded). */
  async run(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<RunResult> {
    const proc = this.spawn(args, env);
    const { code, signal } = await withTimeout(proc.exited, timeoutMs, `bulwark ${args.join(' ')}`);
    return { code, signal, stdout: proc.stdout(), stderr: proc.stderr() };
  }

  async cleanup(): Promise<void> {
    for (const proc of this.procs.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await withTimeout(proc.exited, 10_000, 'SIGKILL').catch(() => undefined);
      }
    }
    for (const dir of this.dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  }
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `check` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 20_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface Daemon {
  proc: Proc;
  port: number;
  base: string;
  dir: string;
  dataDir: string;
  configFile: string;
}

/** Write a config, start `bulwark up` on a free port and wait until /readyz answers 200. */
export async function startDaemon(
  h: Harness,
  options: { yaml?: string; extraArgs?: string[]; env?: NodeJS.ProcessEnv; dataDir?: string; readyTimeoutMs?: number } = {},
): Promise<Daemon> {
  const dir = await h.tempDir();
  const configFile = join(dir, 'bulwark.yaml');
  const dataDir = options.dataDir ?? join(dir, 'data');
  await writeFile(configFile, options.yaml ?? configYaml());
  const port = await freePort();
  const proc = h.spawn(
    ['up', '-c', configFile, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--log-format', 'json', ...(options.extraArgs ?? [])],
    { TEST_SECRET: SECRET, ...options.env },
  );
  const base = `http://127.0.0.1:${port}`;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  await waitFor(async () => {
    if (exited) throw new Error(`daemon exited early: ${proc.stderr()}`);
    const res = await fetch(`${base}/readyz`).catch(() => undefined);
    return res?.status === 200 ? true : undefined;
  }, 'daemon /readyz', options.readyTimeoutMs ?? 30_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\nstderr:\n${proc.stderr()}`);
  });
  return { proc, port, base, dir, dataDir, configFile };
}

/** Create a token with the CLI against the daemon's data dir. */
export async function createToken(h: Harness, dataDir: string, name: string): Promise<string> {
  const result = await h.run(['token', 'create', '--name', name, '--data-dir', dataDir]);
  if (result.code !== 0) throw new Error(`token create failed: ${result.stderr}`);
  const token = result.stdout.trim();
  if (!token) throw new Error('token create printed nothing');
  return token;
}

export function logLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Read one sample value from Prometheus text; 0 when the series is absent. */
export function metricValue(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}

export async function getMetrics(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  return res.text();
}
