import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ServiceConfig } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import type { EndpointPool } from './pool/index.js';
import type { FromWorker, PoolControl, ToWorker } from './worker-protocol.js';

const SYNC_MS = 250;

/**
 * The data plane on every core. Workers share each service's listen socket
 * (the kernel spreads connections: SCHED_NONE) and mirror the primary's
 * pools: the primary pushes health, admin state and weights when they change.
 */
export class GatewayWorkers {
  private readonly workers = new Set<Worker>();
  private lastSent = '';
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly count: number,
    private services: Record<string, ServiceConfig>,
    private readonly stickySecret: string,
    private readonly pools: () => Map<string, EndpointPool>,
    private readonly log: Logger,
  ) {}

  static resolveCount(setting: number | 'auto'): number {
    return setting === 'auto' ? availableParallelism() : setting;
  }

  async start(): Promise<void> {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    const ts = import.meta.url.endsWith('.ts');
    cluster.setupPrimary({ exec: fileURLToPath(new URL(ts ? './worker.ts' : './worker.js', import.meta.url)), execArgv: process.execArgv, silent: false });
    await Promise.all(Array.from({ length: this.count }, () => this.fork()));
    this.timer = setInterval(() => this.sync(), SYNC_MS);
    this.timer.unref();
  }

  /** Push the pools' state now (on a probe change) instead of at the next tick. */
  sync(force = false): void {
    const pools: Record<string, PoolControl> = {};
    for (const [name, pool] of this.pools()) {
      pools[name] = Object.fromEntries(pool.snapshot().endpoints.map((e) => [e.id, { health: e.health, admin: e.admin, weight: e.weight }]));
    }
    const text = JSON.stringify(pools);
    if (!force && text === this.lastSent) return;
    this.lastSent = text;
    this.broadcast({ type: 'bulwark:state', pools });
  }

  /** Each worker drains for up to `drainMs`; at the daemon's deadline the rest are killed. */
  async stop(drainMs: number, deadline: AbortSignal): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    const exits = [...this.workers].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      const kill = () => w.process.kill('SIGKILL');
      if (deadline.aborted) kill();
      else deadline.addEventListener('abort', kill, { once: true });
      w.once('exit', () => {
        deadline.removeEventListener('abort', kill);
        resolve();
      });
      this.send(w, { type: 'bulwark:stop', drainMs });
    }));
    await Promise.all(exits);
  }

  /** The workers' Prometheus metrics, summed across workers by prom-client's cluster aggregator. */
  async metrics(): Promise<string> {
    return new AggregatorRegistry().clusterMetrics();
  }

  private fork(): Promise<void> {
    const worker = cluster.fork({ BULWARK_GATEWAY_WORKER: '1' });
    this.workers.add(worker);
    const expected = Object.keys(this.services).length;
    let listening = 0;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'bulwark:ready') this.send(worker, { type: 'bulwark:config', services: this.services, stickySecret: this.stickySecret });
        if (message.type === 'bulwark:listening' && ++listening === expected) {
          this.lastSent = '';
          this.sync(true);
          resolve();
        }
        if (message.type === 'bulwark:error') reject(new Error(`gateway worker: ${message.message}`));
      });
      worker.once('exit', (code, signal) => {
        this.workers.delete(worker);
        if (this.stopping) return;
        this.log.error({ worker: worker.process.pid, code, signal }, 'gateway worker died; starting another');
        void this.fork().catch((err: Error) => this.log.error({ err: err.message }, 'could not restart a gateway worker'));
      });
    });
  }

  private broadcast(message: ToWorker): void {
    for (const w of this.workers) this.send(w, message);
  }

  private send(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message);
  }
}
