/**
 * A Redis deployment as `bulwark up` runs it: RedisHaService supervising
 * redis-server members and Sentinels (real processes, free ports, temp data
 * dirs) and the gateway's Redis front door following the Sentinels. Plus a
 * writer that goes through the front door, reconnects, and remembers which
 * writes were acknowledged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseConfigText, type BulwarkConfig } from '../../src/config/index.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import { freePort } from '../../src/core/net.js';
import { RespConnection } from '../../src/core/resp.js';
import { sleep } from '../../src/core/time.js';
import { EventBus } from '../../src/events/index.js';
import { Gateway } from '../../src/gateway/index.js';
import type { ProbeEvents } from '../../src/probes/index.js';
import { ask, masterTrackerFactory, RedisHaService, replicationInfo } from '../../src/redis-ha/index.js';

export const PASSWORD = 'harness-secret-9f2c';

export interface DeploymentOptions {
  members?: number;
  sentinels?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  settings?: Record<string, string>;
  log?: Logger;
}

export interface Deployment {
  config: BulwarkConfig;
  service: RedisHaService;
  gateway: Gateway;
  frontDoor: number;
  memberPorts: number[];
  sentinelPorts: number[];
  downAfterMs: number;
  /** The member the Sentinels name now, asked of one Sentinel that answers. */
  masterPort(): Promise<number | undefined>;
  role(port: number): Promise<string | undefined>;
  pidOf(kind: 'member' | 'sentinel', index: number): number;
  stop(): Promise<void>;
}

export async function startDeployment(o: DeploymentOptions = {}): Promise<Deployment> {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-redis-ha-'));
  const memberPorts = await Promise.all(Array.from({ length: o.members ?? 2 }, () => freePort()));
  const sentinelPorts = await Promise.all(Array.from({ length: o.sentinels ?? 3 }, () => freePort()));
  const frontDoor = await freePort();
  const downAfterMs = o.downAfterMs ?? 1_000;
  const yaml = [
    'databases:', '  cache:', '    redis:', `      password: ${PASSWORD}`, `      listen: 127.0.0.1:${frontDoor}`,
    ...(o.settings ? ['      settings:', ...Object.entries(o.settings).map(([k, v]) => `        ${k}: "${v}"`)] : []),
    '      members:', ...memberPorts.map((port, i) => `        - { name: r${i}, port: ${port}, data_dir: ${join(dir, `r${i}`)} }`),
    '      sentinel:', '        quorum: 2', `        down_after: ${downAfterMs}ms`, `        failover_timeout: ${o.failoverTimeoutMs ?? 30_000}ms`,
    '        sentinels:', ...sentinelPorts.map((port, i) => `          - { name: s${i}, port: ${port}, data_dir: ${join(dir, `s${i}`)} }`),
  ].join('\n');
  const loaded = parseConfigText(yaml, 'harness.yaml', { lint: false });
  if (!loaded.config) throw new Error(`bad harness configuration: ${JSON.stringify(loaded.findings)}`);
  const config = loaded.config;
  const log = o.log ?? silentLogger();
  const service = new RedisHaService({ config, log, pollMs: 200 });
  await service.start();
  const gateway = new Gateway(config, new EventBus<ProbeEvents>(), new Registry(), log, { primaries: masterTrackerFactory({ log, pollMs: 200 }) });
  await gateway.start();
  const sentinelEndpoint = (port: number) => ({ host: '127.0.0.1', port, timeoutMs: 500 });
  return {
    config, service, gateway, frontDoor, memberPorts, sentinelPorts, downAfterMs,
    async masterPort() {
      for (const port of sentinelPorts) {
        const reply = await ask(sentinelEndpoint(port), [['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster']]).catch(() => undefined);
        const address = reply?.[0];
        if (Array.isArray(address)) return Number(address[1]);
      }
      return undefined;
    },
    async role(port) {
      return (await replicationInfo({ host: '127.0.0.1', port, password: PASSWORD, timeoutMs: 500 }).catch(() => undefined))?.get('role');
    },
    pidOf(kind, index) {
      const processes = service.processes('cache');
      const pid = (kind === 'member' ? processes.members : processes.sentinels)[index]?.pid;
      if (pid === undefined) throw new Error(`${kind} ${index} is not running`);
      return pid;
    },
    async stop() {
      await gateway.stop(AbortSignal.timeout(3_000));
      await service.stop(AbortSignal.timeout(5_000));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `test` every 50 ms until it holds; the deadline is only a guard against a hung test. */
export async function until(what: string, test: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface WriterReport {
  acknowledged: number;
  errors: number;
  reconnects: number;
  /** Wall-clock ms of each failed write or connection. */
  errorsAt: number[];
  /** Wall-clock ms of each acknowledged write, by key index. */
  ackedAt: Map<number, number>;
}

/**
 * Writes `SET w:<i> <i>` in sequence through the front door (with `WAIT 1 timeout` after
 * each when `wait`); a write counts as acknowledged on +OK (and, with `wait`, WAIT ≥ 1).
 */
export class FrontDoorWriter {
  readonly report: WriterReport = { acknowledged: 0, errors: 0, reconnects: 0, errorsAt: [], ackedAt: new Map() };
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private next = 0;

  constructor(private readonly port: number, private readonly wait: boolean) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<WriterReport> {
    this.stopping.abort();
    await this.loop;
    return this.report;
  }

  /** Resolves after `count` more acknowledged writes. */
  async acknowledgedMore(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.report.acknowledged + count;
    await until(`${count} acknowledged writes`, () => this.report.acknowledged >= target, timeoutMs);
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const connection = new RespConnection('127.0.0.1', this.port, 1_048_576);
      try {
        await connection.connected();
        await connection.command(['AUTH', PASSWORD]);
        while (!this.stopping.signal.aborted) await this.writeOne(connection);
      } catch {
        this.report.errors++;
        this.report.errorsAt.push(Date.now());
        this.report.reconnects++;
        await sleep(20, this.stopping.signal);
      } finally {
        connection.destroy();
      }
    }
  }

  private async writeOne(connection: RespConnection): Promise<void> {
    const i = this.next++;
    const reply = await connection.command(['SET', `w:${i}`, String(i)]);
    if (reply !== 'OK') return;
    if (this.wait) {
      const replicas = await connection.command(['WAIT', '1', '1000']);
      if (typeof replicas !== 'number' || replicas < 1) return;
    }
    this.report.acknowledged++;
    this.report.ackedAt.set(i, Date.now());
  }
}

/** Acknowledged keys the master at `port` does not have. */
export async function lostWrites(port: number, acked: Iterable<number>): Promise<number[]> {
  const keys = [...acked];
  const lost: number[] = [];
  for (let at = 0; at < keys.length; at += 500) {
    const chunk = keys.slice(at, at + 500);
    const [values] = await ask({ host: '127.0.0.1', port, password: PASSWORD, timeoutMs: 5_000 }, [['MGET', ...chunk.map((i) => `w:${i}`)]]);
    (values as Array<string | null>).forEach((value, j) => { if (value === null) lost.push(chunk[j]!); });
  }
  return lost;
}
