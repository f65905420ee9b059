import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, waitFor, withTimeout, type Proc } from '../daemon/helpers.js';

export interface ProbesView {
  vantage: string;
  targets: Array<{
    id: string;
    status: 'up' | 'down' | 'unknown';
    reason: string;
    quorum: number;
    vantages: Array<{ vantage: string; reporting: boolean; status: 'up' | 'down' | 'unknown' }>;
  }>;
  agents: Array<{ name: string; zone?: string; lastSeen: number; reporting: boolean }>;
}

/**
 * Every process, server and directory one test makes, so afterEach can SIGKILL
 * and remove what is left whatever the test did.
 */
export class Cluster {
  private readonly procs: Proc[] = [];
  private readonly dirs: string[] = [];
  private readonly servers: Array<() => Promise<void>> = [];

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-agents-test-'));
    this.dirs.push(dir);
    return dir;
  }

  /** `bulwark ARGS`, optionally inside a network namespace (`prefix` = ip netns exec NS). */
  bulwark(args: string[], options: { prefix?: string[]; env?: NodeJS.ProcessEnv } = {}): Proc {
    const argv = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args];
    const [file, ...rest] = [...(options.prefix ?? []), ...argv] as [string, ...string[]];
    const child = spawn(file, rest, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    const proc: Proc = { child, stdout: () => out, stderr: () => err, exited };
    this.procs.push(proc);
    return proc;
  }

  async run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const proc = this.bulwark(args);
    const { code } = await withTimeout(proc.exited, 30_000, `bulwark ${args.join(' ')}`);
    return { code, stdout: proc.stdout(), stderr: proc.stderr() };
  }

  /** A plain HTTP target answering 200 on /health; `stop()` closes it and every connection. */
  async target(host: string, port = 0): Promise<{ port: number; stop(): Promise<void> }> {
    const server: Server = createServer((_req, res) => res.writeHead(200, { connection: 'close' }).end('ok'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }));
    this.servers.push(stop);
    const address = server.address();
    return { port: typeof address === 'object' && address ? address.port : port, stop };
  }

  async cleanup(): Promise<void> {
    for (const proc of this.procs.splice(0)) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await withTimeout(proc.exited, 10_000, 'SIGKILL').catch(() => undefined);
      }
    }
    for (const stop of this.servers.splice(0)) await stop();
    for (const dir of this.dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  }
}

export function agentsConfig(targetUrl: string): string {
  return `name: agents-test
sla_tiers:
  standard: { availability: 99%, rto: 4h, rpo: 24h }
zones:
  z1: { region: local }
services:
  api:
    tier: standard
    endpoints:
      - { url: ${targetUrl}, zone: z1 }
    health_check: { path: /health, interval: 500ms, timeout: 300ms, fall: 2, rise: 1, quorum: 2 }
probes:
  agent_timeout: 3s
`;
}

export interface ControlPlane {
  proc: Proc;
  base: string;
  token: string;
  probes(): Promise<ProbesView>;
}

/** A data dir with a token in it and a config file; the daemon itself starts with `startControlPlane`. */
export async function prepareControlPlane(cluster: Cluster, targetUrl: string): Promise<{ dataDir: string; configFile: string; token: string }> {
  const dir = await cluster.tempDir();
  const configFile = join(dir, 'bulwark.yaml');
  const dataDir = join(dir, 'data');
  await writeFile(configFile, agentsConfig(targetUrl));
  const created = await cluster.run(['token', 'create', '--name', 'agents', '--data-dir', dataDir]);
  if (created.code !== 0) throw new Error(`token create failed: ${created.stderr}`);
  return { dataDir, configFile, token: created.stdout.trim() };
}

export async function startControlPlane(
  cluster: Cluster,
  prepared: { dataDir: string; configFile: string; token: string },
  listen: { host: string; port: number },
): Promise<ControlPlane> {
  const proc = cluster.bulwark(['up', '-c', prepared.configFile, '--data-dir', prepared.dataDir, '--listen', `${listen.host}:${listen.port}`, '--log-format', 'json']);
  const base = `http://${listen.host}:${listen.port}`;
  await waitFor(async () => {
    if (proc.child.exitCode !== null) throw new Error('daemon exited');
    const res = await fetch(`${base}/readyz`).catch(() => undefined);
    return res?.status === 200 ? true : undefined;
  }, 'daemon /readyz', 30_000).catch((err: unknown) => {
    throw new Error(`${String(err)}\nstderr:\n${proc.stderr()}`);
  });
  const probes = async (): Promise<ProbesView> => {
    const res = await fetch(`${base}/api/v1/probes`, { headers: { authorization: `Bearer ${prepared.token}` }, signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) throw new Error(`GET /api/v1/probes: HTTP ${res.status}`);
    return (await res.json()) as ProbesView;
  };
  return { proc, base, token: prepared.token, probes };
}

/** The log lines of a process that carry `msg` (JSON logs on stderr). */
export function logged(proc: Proc, msg: string): Array<Record<string, unknown>> {
  return proc.stderr().split('\n').flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      return String(parsed.msg).includes(msg) ? [parsed] : [];
    } catch {
      return []; // not JSON, or a line still being written
    }
  });
}
