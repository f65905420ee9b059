import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ServiceConfig } from '../config/index.js';
import { ConnectionDispatcher } from './connection-dispatch.js';
import type { Logger } from '../core/logger.js';
import type { EndpointPool } from './pool/index.js';
import type { ServiceBehaviour } from './service-gateway.js';
import type { FromWorker, PoolControl, ToWorker } from './worker-protocol.js';

const SYNC_MS = 250;

/**
 * The data plane on every core. The primary accepts each service's connections
 * and hands each to the least-loaded worker (ConnectionDispatcher), or with
 * `accept: kernel` the workers accept on the shared sockets themselves; workers
 * mirror the primary's pools: it pushes health, admin state and weights when
 * they change.
 */
export class GatewayWorkers {
  private readonly workers = new Set<Worker>();
  private readonly active = new Map<Worker, Record<string, Record<string, number>>>();
  private seq = 0;
  private readonly applied = new Map<Worker, number>();
  private readonly waiters = new Set<() => void>();
  private lastSent = '';
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** `markStopping` was called: a worker forked from now on is told at once. */
  private shuttingDown = false;
  private readonly dispatcher: ConnectionDispatcher;
  /** Workers that have their services and the pools' current state: only they are handed connections. */
  private readonly serving = new Set<Worker>();

  constructor(
    private readonly count: number,
    private services: Record<string, ServiceConfig>,
    private readonly behaviours: Record<string, ServiceBehaviour>,
    private readonly stickySecret: string,
    private readonly pools: () => Map<string, EndpointPool>,
    private readonly log: Logger,
    private readonly accept: 'least_connections' | 'kernel' = 'least_connections',
  ) {
    this.dispatcher = new ConnectionDispatcher(() => this.serving, log);
  }

  static resolveCount(setting: number | 'auto'): number {
    return setting === 'auto' ? availableParallelism() : setting;
  }

  async start(): Promise<void> {
    // Frozen by the first setupPrimary; it matters only when workers listen themselves (accept: kernel).
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    const ts = import.meta.url.endsWith('.ts');
    cluster.setupPrimary({ exec: fileURLToPath(new URL(ts ? './worker.ts' : './worker.js', import.meta.url)), execArgv: process.execArgv, silent: false });
    await Promise.all(Array.from({ length: this.count }, () => this.fork()));
    try {
      if (this.accept === 'least_connections') {
        for (const [name, service] of Object.entries(this.services)) await this.dispatcher.listen(name, String(service.listen));
      }
    } catch (err) {
      await this.stop(0, AbortSignal.timeout(2_000));
      throw err;
    }
    this.timer = setInterval(() => void this.sync(), SYNC_MS);
    this.timer.unref();
  }

  /**
   * Push the pools' state now (a probe change, an operator's drain) instead of
   * at the next tick. Resolves once every worker has applied it, so an API
   * answer to "drain" means no worker picks the endpoint any more (bounded wait).
   */
  sync(force = false): Promise<void> {
    const pools: Record<string, PoolControl> = {};
    for (const [name, pool] of this.pools()) {
      pools[name] = Object.fromEntries(pool.snapshot().endpoints.map((e) => [e.id, { health: e.health, admin: e.admin, weight: e.weight }]));
    }
    const text = JSON.stringify(pools);
    if (!force && text === this.lastSent) return this.appliedEverywhere(this.seq);
    this.lastSent = text;
    const seq = ++this.seq;
    this.broadcast({ type: 'bulwark:state', seq, pools });
    return this.appliedEverywhere(seq);
  }

  private appliedEverywhere(seq: number, timeoutMs = 2_000): Promise<void> {
    const done = () => [...this.workers].every((w) => (this.applied.get(w) ?? 0) >= seq);
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** The daemon is shutting down: workers stop reporting level changes as failovers (routing is unchanged). */
  markStopping(): void {
    this.shuttingDown = true;
    this.broadcast({ type: 'bulwark:stopping' });
  }

  /** Each worker drains for up to `drainMs`; at the daemon's deadline the rest are killed. */
  async stop(drainMs: number, deadline: AbortSignal): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.dispatcher.close();
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
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'bulwark:ready') {
          this.send(worker, { type: 'bulwark:config', services: this.services, behaviours: this.behaviours, stickySecret: this.stickySecret, listen: this.accept === 'kernel' });
          if (this.shuttingDown) this.send(worker, { type: 'bulwark:stopping' });
        }
        if (message.type === 'bulwark:state-applied') {
          this.applied.set(worker, message.seq);
          for (const check of [...this.waiters]) check();
        }
        if (message.type === 'bulwark:active') {
          this.active.set(worker, message.pools);
          this.dispatcher.report(worker, message.connections);
          this.publishActive();
        }
        if (message.type === 'bulwark:configured') {
          this.lastSent = '';
          void this.sync(true).then(() => {
            if (!worker.isDead()) {
              this.serving.add(worker);
              this.log.info({ worker: worker.process.pid }, 'gateway worker serving');
            }
            resolve();
          });
        }
        if (message.type === 'bulwark:error') reject(new Error(`gateway worker: ${message.message}`));
      });
      worker.once('exit', (code, signal) => {
        this.workers.delete(worker);
        this.serving.delete(worker);
        this.active.delete(worker);
        this.applied.delete(worker);
        this.dispatcher.forget(worker);
        for (const check of [...this.waiters]) check();
        this.publishActive();
        if (this.stopping) return;
        this.log.error({ worker: worker.process.pid, code, signal }, 'gateway worker died; starting another');
        void this.fork().catch((err: Error) => this.log.error({ err: err.message }, 'could not restart a gateway worker'));
      });
    });
  }

  /** Sum the workers' in-flight counts into the primary's pools. */
  private publishActive(): void {
    for (const [name, pool] of this.pools()) {
      const sums = new Map<string, number>();
      for (const pools of this.active.values()) {
        for (const [id, n] of Object.entries(pools[name] ?? {})) sums.set(id, (sums.get(id) ?? 0) + n);
      }
      pool.setExternalActive(sums);
    }
  }

  private broadcast(message: ToWorker): void {
    for (const w of this.workers) this.send(w, message);
  }

  private send(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message);
  }
}
