/**
 * A throwaway redis-server for integration tests: real binary, a temp
 * directory, a free port on 127.0.0.1, no persistence; optionally a password
 * and a primary to replicate from.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisCheck, type RedisReplicaObservation } from '../checks/redis.js';
import type { CheckResult } from '../types.js';
import { freePort } from '../../testing/net.js';

const execFileAsync = promisify(execFile);
const START_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 25;

export interface StartRedisOptions {
  /** Port of a primary on 127.0.0.1 to replicate from (`--replicaof`). */
  replicaOf?: number;
  /** `requirepass`; for a replica also the `masterauth` used with its primary. */
  password?: string;
}

export interface RedisServer {
  port: number;
  pid: number;
  password?: string;
  /** Runs one command with redis-cli and returns its raw output. */
  cli(...args: string[]): Promise<string>;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}


async function requireBinary(name: string): Promise<void> {
  await execFileAsync(name, ['--version']).catch(() => {
    throw new Error(`${name} was not found on PATH; run the tests with \`bash scripts/test.sh\`, which installs it`);
  });
}

function serverArgs(port: number, dir: string, options: StartRedisOptions): string[] {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--logfile', '',
    // Start a full sync at once (the default waits 5 s for more replicas to arrive).
    '--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1'];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  if (options.replicaOf !== undefined) {
    args.push('--replicaof', '127.0.0.1', String(options.replicaOf));
    if (options.password !== undefined) args.push('--masterauth', options.password);
  }
  return args;
}

async function probe(port: number, password: string | undefined): Promise<CheckResult> {
  return redisCheck.run({ host: '127.0.0.1', port, password }, { signal: AbortSignal.timeout(1000), timeoutMs: 1000 });
}

/** True when the replica's link is up and its primary lists it as online (after its first ACK). */
async function linked(port: number, options: StartRedisOptions): Promise<boolean> {
  if (options.replicaOf === undefined) return true;
  if ((await probe(port, options.password)).observations.masterLinkStatus !== 'up') return false;
  const seen = (await probe(options.replicaOf, options.password)).observations.replicas as RedisReplicaObservation[] | undefined;
  return seen?.some((r) => r.port === port && r.state === 'online') ?? false;
}

/** Probes until PING answers (and, for a replica, replication is fully set up). */
async function waitReady(child: ChildProcess, port: number, options: StartRedisOptions, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited during startup:\n${output()}`);
    if ((await probe(port, options.password)).ok && (await linked(port, options))) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw new Error(`redis-server on port ${port} not ready within ${START_TIMEOUT_MS} ms:\n${output()}`);
}

async function stopChild(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT'); // in case a test paused it
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await rm(dir, { recursive: true, force: true });
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  await requireBinary('redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', serverArgs(port, dir, options), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-8192); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= stopChild(child, dir));
  try {
    await waitReady(child, port, options, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  const auth = options.password === undefined ? [] : ['--no-auth-warning', '-a', options.password];
  return {
    port,
    pid: child.pid ?? 0,
    password: options.password,
    cli: async (...args) => (await execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args])).stdout,
    stop,
  };
}
