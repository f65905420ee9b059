import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../core/net.js';

export interface EtcdClusterOptions {
  /** Members; 3 by default. */
  size?: number;
  heartbeatMs?: number;
  electionTimeoutMs?: number;
  /** The etcd binary; `etcd` on PATH by default. */
  binary?: string;
  /** Where the temp dir goes; /dev/shm when it exists, since every etcd write is fsynced. */
  baseDir?: string;
  /** Bound on waiting for a healthy cluster; 15 s by default. */
  startTimeoutMs?: number;
  /** More flags for every member, e.g. ['--auth-token-ttl', '1']. */
  extraArgs?: string[];
}

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
}

/** A member by index or name. */
export type MemberRef = number | string;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A real etcd cluster on loopback for integration tests; `stopAll()` kills it and removes its files. */
export class EtcdCluster {
  private readonly processes = new Map<string, ChildProcess>();

  private constructor(readonly dir: string, readonly members: readonly EtcdMember[], private readonly options: Required<EtcdClusterOptions>) {}

  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const resolved: Required<EtcdClusterOptions> = {
      size: 3, heartbeatMs: 50, electionTimeoutMs: 500, binary: 'etcd', startTimeoutMs: 15_000, extraArgs: [],
      baseDir: existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), ...options,
    };
    const dir = await mkdtemp(join(resolved.baseDir, 'bulwark-etcd-'));
    const cluster = new EtcdCluster(dir, await allocate(dir, resolved.size), resolved);
    try {
      for (const member of cluster.members) cluster.spawn(member);
      await cluster.waitHealthy();
    } catch (err) {
      await cluster.stopAll();
      throw err;
    }
    return cluster;
  }

  clientUrls(): string[] {
    return this.members.map((m) => m.clientUrl);
  }

  member(ref: MemberRef): EtcdMember {
    const found = typeof ref === 'number' ? this.members[ref] : this.members.find((m) => m.name === ref);
    if (!found) throw new Error(`no etcd member ${String(ref)}`);
    return found;
  }

  /** SIGKILL: the member dies without a goodbye to its peers; resolves once it has exited. */
  async stop(ref: MemberRef): Promise<void> {
    const child = this.processes.get(this.member(ref).name);
    if (!child) return;
    await kill(child);
    this.processes.delete(this.member(ref).name);
  }

  /** Restarts a stopped member from its data dir and waits until it reports healthy. */
  async start(ref: MemberRef, timeoutMs = this.options.startTimeoutMs): Promise<void> {
    const member = this.member(ref);
    if (!this.processes.has(member.name)) this.spawn(member);
    await this.waitHealthy([member], timeoutMs);
  }

  /** SIGSTOP: the member keeps its sockets but answers nothing, like a hung host. */
  pause(ref: MemberRef): void {
    this.processes.get(this.member(ref).name)?.kill('SIGSTOP');
  }

  resume(ref: MemberRef): void {
    this.processes.get(this.member(ref).name)?.kill('SIGCONT');
  }

  /** Waits until every given member answers /health with a leader; fails early if one exits. */
  async waitHealthy(members: readonly EtcdMember[] = this.members, timeoutMs = this.options.startTimeoutMs): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    for (const member of members) {
      while (!(await this.healthy(member, signal))) {
        if (signal.aborted) throw new Error(`etcd member ${member.name} not healthy within ${timeoutMs} ms\n${await this.logTail(member.name)}`);
        // Polling is the only way: etcd does not announce that it has a leader.
        await sleep(25);
      }
    }
  }

  async logTail(ref: MemberRef, lines = 20): Promise<string> {
    const text = await readFile(this.member(ref).logFile, 'utf8').catch(() => '');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.values()].map(kill));
    this.processes.clear();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async healthy(member: EtcdMember, signal: AbortSignal): Promise<boolean> {
    const child = this.processes.get(member.name);
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd member ${member.name} is not running\n${await this.logTail(member.name)}`);
    }
    try {
      const res = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.any([signal, AbortSignal.timeout(500)]) });
      const body = (await res.json()) as { health?: string };
      return body.health === 'true';
    } catch {
      return false;
    }
  }

  private spawn(member: EtcdMember): void {
    const initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const args = [
      '--name', member.name, '--data-dir', member.dataDir,
      '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-token', 'bulwark-test', '--initial-cluster-state', 'new',
      '--heartbeat-interval', String(this.options.heartbeatMs), '--election-timeout', String(this.options.electionTimeoutMs),
      '--logger', 'zap', '--log-outputs', 'stderr', ...this.options.extraArgs,
    ];
    const log = openSync(member.logFile, 'a');
    try {
      const child = spawn(this.options.binary, args, { stdio: ['ignore', log, log], env: withoutEtcdEnv() });
      track(child);
      this.processes.set(member.name, child);
    } finally {
      closeSync(log);
    }
  }
}

async function allocate(dir: string, size: number): Promise<EtcdMember[]> {
  const ports = new Set<number>();
  while (ports.size < size * 2) ports.add(await freePort());
  const [...list] = ports;
  return Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    clientUrl: `http://127.0.0.1:${list[i * 2]}`,
    peerUrl: `http://127.0.0.1:${list[i * 2 + 1]}`,
    dataDir: join(dir, `m${i}`),
    logFile: join(dir, `m${i}.log`),
  }));
}

/** ETCD_* variables in the test's environment would override the flags. */
function withoutEtcdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** A test runner that dies mid-test must not leave etcd processes behind. */
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}
