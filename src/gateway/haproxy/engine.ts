import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HaproxySettings, ServiceConfig } from '../../config/index.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { EndpointPool, poolEndpointsFromConfig, poolOptionsFromConfig } from '../pool/index.js';
import type { HealthStatus } from '../pool/types.js';
import { RuntimeDriver, serverStateOf } from './driver.js';
import { findHaproxy, haproxyFiles, writeHaproxyConfig, type HaproxyFiles } from './files.js';
import { HaproxyProcess } from './haproxy-process.js';
import type { ServerState } from './render-backend.js';
import { haproxyCommand } from './runtime-api.js';
import { parseShowStat, type HaproxyStatRow } from './stats.js';
import { backendName } from './render-backend.js';

type Services = ReadonlyArray<readonly [string, ServiceConfig]>;

interface Served {
  pool: EndpointPool;
  fingerprint: string;
  listen: string;
}

/**
 * The HAProxy data plane for the services whose engine is `haproxy`: one
 * supervised HAProxy for all of them, configured from their definitions, with
 * Bulwark's pools (probe quorum health, operators' drain/disable/weight)
 * pushed into its servers through the runtime API, and `show stat` read back
 * (sessions per server into the pools, for drains and snapshots).
 */
export class HaproxyEngine {
  private readonly served = new Map<string, Served>();
  private readonly files: HaproxyFiles;
  private readonly bin: string;
  private readonly process: HaproxyProcess;
  private readonly driver: RuntimeDriver;
  private services: Services = [];
  private lastStats: HaproxyStatRow[] = [];

  constructor(settings: HaproxySettings, private readonly log: Logger) {
    this.bin = findHaproxy(settings.bin);
    this.files = haproxyFiles(settings.dir ?? mkdtempSync(join(tmpdir(), 'bulwark-haproxy-')), settings.threads);
    this.driver = new RuntimeDriver(this.files.statsSocket, log);
    this.process = new HaproxyProcess({ bin: this.bin, files: this.files, log, onNewWorker: () => void this.resync() });
  }

  get directory(): string {
    return this.files.dir;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  async start(services: Services): Promise<void> {
    this.adopt(services);
    await writeHaproxyConfig(this.bin, this.files, services, this.states());
    await this.process.start();
    await this.resync();
    this.log.info({ services: services.map(([n, s]) => `${n}@${String(s.listen)}`), dir: this.files.dir }, 'haproxy engine serving');
  }

  /** A new configuration: rendered (with the servers' current states), checked, and loaded by a hitless reload. */
  async reload(services: Services): Promise<void> {
    if (JSON.stringify(services) === JSON.stringify(this.services)) return;
    this.adopt(services);
    await writeHaproxyConfig(this.bin, this.files, services, this.states());
    await this.process.reload();
  }

  async stop(deadline?: AbortSignal): Promise<void> {
    await this.process.stop(deadline);
  }

  has(service: string): boolean {
    return this.served.has(service);
  }

  pool(service: string): EndpointPool | undefined {
    return this.served.get(service)?.pool;
  }

  /** The probes' quorum decided an endpoint's health: HAProxy follows. */
  setHealth(service: string, member: string, status: HealthStatus): void {
    const served = this.served.get(service);
    if (!served?.pool.get(member)) return;
    served.pool.setHealth(member, status);
    void this.poolChanged(service);
  }

  /** Resolves once HAProxy applied the pool's state (an operator's drain, disable, enable or weight). */
  async poolChanged(service: string): Promise<void> {
    const served = this.served.get(service);
    if (!served) return;
    try {
      await this.driver.sync(service, served.pool);
    } catch (err) {
      this.log.warn({ service, err: errorMessage(err) }, 'could not push server states to HAProxy');
    }
  }

  /** `show stat`, also folded into the pools (sessions per server count as in flight, so a drain sees when a server is idle). */
  async stats(): Promise<HaproxyStatRow[]> {
    this.lastStats = parseShowStat(await haproxyCommand(this.files.statsSocket, 'show stat'));
    for (const [name, served] of this.served) {
      const rows = this.lastStats.filter((r) => r.proxy === backendName(name) && served.pool.get(r.server));
      served.pool.setExternalActive(new Map(rows.map((r) => [r.server, r.current])));
    }
    return this.lastStats;
  }

  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.served].map(([name, s]) => {
      const servers = this.lastStats.filter((r) => r.proxy === backendName(name) && r.server !== 'BACKEND')
        .map((r) => ({ id: r.server, status: r.status, sessions: r.current, total: r.total, weight: r.weight, queued: r.queued, responses5xx: r.responses5xx, retries: r.retries, redispatches: r.redispatches }));
      return [name, { engine: 'haproxy', listen: s.listen, ...s.pool.snapshot(), haproxy: { pid: this.process.pid ?? null, servers } }];
    }));
  }

  private adopt(services: Services): void {
    this.services = services;
    const wanted = new Set(services.map(([n]) => n));
    for (const name of [...this.served.keys()]) if (!wanted.has(name)) this.served.delete(name);
    for (const [name, service] of services) {
      const fingerprint = JSON.stringify(service);
      const existing = this.served.get(name);
      if (existing?.fingerprint === fingerprint) continue;
      if (existing) existing.pool.update(poolEndpointsFromConfig(service), poolOptionsFromConfig(service));
      const pool = existing?.pool ?? new EndpointPool(poolEndpointsFromConfig(service), poolOptionsFromConfig(service));
      this.served.set(name, { pool, fingerprint, listen: String(service.listen) });
    }
  }

  private states(): Map<string, Map<string, ServerState>> {
    return new Map([...this.served].map(([name, s]) => [name, new Map(s.pool.snapshot().endpoints.map((e) => [e.id, serverStateOf(e)]))]));
  }

  /** A new worker starts from the rendered file; the runtime state is pushed again in full. */
  private async resync(): Promise<void> {
    this.driver.forget();
    await Promise.all([...this.served.keys()].map((name) => this.poolChanged(name)));
  }
}
