import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import { randomBytes } from 'node:crypto';
import type { BulwarkConfig, ServiceConfig } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import type { Subsystem } from '../core/lifecycle.js';
import type { EventBus } from '../events/index.js';
import type { ProbeEvents } from '../probes/index.js';
import { listenService } from './listen.js';
import { registerGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { ServiceGateway, type ServiceBehaviour } from './service-gateway.js';
import { DATABASE_BEHAVIOUR, databaseOfKey, databaseServiceKey, databaseServices, type PrimaryAddress, type PrimarySourceFactory } from './database-services.js';
import { PrimaryFollowers, routeToPrimary } from './primary-followers.js';
import type { TcpProxy } from './proxy/index.js';
import { GatewayWorkers } from './workers.js';
import { RedirectListeners } from './tls/redirect.js';
import { registerCertificateExpiry } from './tls/expiry-metric.js';
import { serviceEngine } from '../config/index.js';
import type { EndpointPool } from './pool/index.js';
import { HaproxyServices } from './haproxy/services.js';

export interface GatewayOptions {
  /**
   * Makes the primary tracker of a database that has `postgres.listen`
   * (src/postgres-ha's `primaryTrackerFactory`). The decision is made here, in
   * the daemon, and reaches gateway workers like probe health does.
   */
  primaries?: PrimarySourceFactory;
}

interface Running {
  gateway: ServiceGateway;
  fingerprint: string;
  address: string;
}

/**
 * The built-in data plane: one listener per service that has `listen`,
 * routing on what the probes publish and on what it sees in live traffic,
 * and one per database that has `postgres.listen`, routing to its primary
 * alone as the database's primary tracker decides (database-services.ts).
 */
export class Gateway implements Subsystem<BulwarkConfig> {
  readonly name = 'gateway';
  private readonly services = new Map<string, Running>();
  private metrics: GatewayMetrics;
  private unsubscribe: (() => void) | undefined;
  private workers: GatewayWorkers | undefined;
  private stopping = false;

  /** One secret for sticky-session cookies, shared with every worker, so a cookie means the same endpoint on all of them. */
  private readonly stickySecret = randomBytes(32).toString('base64url');
  private readonly inDaemonMetrics: GatewayMetrics;
  private readonly primaryMetrics: GatewayMetrics;
  private readonly primaries: PrimaryFollowers;
  private readonly redirects: RedirectListeners;
  /** The services whose engine is `haproxy`: one supervised HAProxy, driven from here. */
  private readonly haproxy: HaproxyServices;

  constructor(private config: BulwarkConfig, private readonly bus: EventBus<ProbeEvents>, registry: Registry, private readonly log: Logger, options: GatewayOptions = {}) {
    // Registered once each: in worker mode the workers export traffic metrics and the primary only tier changes.
    const tierChanges = registerGatewayMetrics(new Registry(), registry);
    this.primaryMetrics = tierChanges;
    this.inDaemonMetrics = { ...registerGatewayMetrics(registry, new Registry()), failovers: tierChanges.failovers };
    this.metrics = this.inDaemonMetrics;
    this.redirects = new RedirectListeners(log);
    this.haproxy = new HaproxyServices(log.child({ engine: 'haproxy' }));
    registerCertificateExpiry(registry, () => this.config);
    this.primaries = new PrimaryFollowers(options.primaries, (database, primary) => this.primaryChanged(database, primary), log);
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.unsubscribe = this.bus.on('target.state', (e) => {
      if (e.target.owner.kind !== 'service') return;
      this.services.get(e.target.owner.name)?.gateway.setHealth(e.target.member, e.to);
      this.haproxy.setHealth(e.target.owner.name, e.target.member, e.to);
      void this.workers?.sync();
    });
    await this.primaries.sync(this.config);
    try {
      await this.haproxy.sync(this.config, haproxyServed(this.config));
      await this.startAll();
    } catch (err) {
      await this.haproxy.stop();
      // A gateway that failed to start is not stopped by the lifecycle: its trackers must not outlive it.
      await this.primaries.stop();
      throw err;
    }
  }

  /** The daemon is stopping: endpoints lost from now on (a primary the databases subsystem stops) are no failover. */
  beforeStop(): void {
    this.stopping = true;
    for (const { gateway } of this.services.values()) gateway.markStopping();
    this.workers?.markStopping();
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.beforeStop();
    this.unsubscribe?.();
    await Promise.all([this.stopAll(deadline), this.haproxy.stop(deadline)]);
    await this.primaries.stop(deadline);
  }

  /**
   * A database's primary changed: its service routes to the new one alone and
   * closes the sessions still open to the others, here or, in worker mode, in
   * every worker once it applies the state pushed now.
   */
  private primaryChanged(database: string, primary: PrimaryAddress | undefined): void {
    const running = this.services.get(databaseServiceKey(database));
    if (!running) return;
    this.log[this.stopping ? 'debug' : 'info']({ database, primary: primary?.member ?? null }, primary ? 'database service routes to the primary' : 'database service routes to no one until a primary is known');
    routeToPrimary(running.gateway, primary, this.log);
    void this.workers?.sync();
  }

  /** Prometheus text from the worker processes (empty when the gateway runs in the daemon). */
  async workerMetrics(): Promise<string> {
    return this.workers ? this.workers.metrics() : '';
  }

  private async startAll(): Promise<void> {
    const count = GatewayWorkers.resolveCount(this.config.gateway.workers);
    const services = proxied(this.config);
    await this.redirects.sync(services);
    if (count <= 1 || services.length === 0) {
      this.metrics = this.inDaemonMetrics;
      for (const [name, service] of services) await this.startService(name, service);
      return;
    }
    this.metrics = this.primaryMetrics;
    // The primary keeps the pools (probe health, operators' decisions) and the workers serve.
    for (const [name, service] of services) this.services.set(name, { gateway: this.build(name, service), fingerprint: JSON.stringify(service), address: String(service.listen) });
    const behaviours = Object.fromEntries(services.map(([n]) => [n, behaviourOf(n)]));
    this.workers = new GatewayWorkers(count, Object.fromEntries(services), behaviours, this.stickySecret, () => new Map([...this.services].map(([n, r]) => [n, r.gateway.pool])), this.log, this.config.gateway.accept);
    await this.workers.start();
    this.log.info({ workers: count, services: services.map(([n, s]) => `${n}@${s.listen}`) }, 'gateway workers listening');
  }

  private async stopAll(deadline: AbortSignal): Promise<void> {
    await this.redirects.close();
    if (this.workers) {
      await this.workers.stop(10_000, deadline);
      this.workers = undefined;
      this.services.clear();
      return;
    }
    await Promise.all([...this.services.keys()].map((name) => this.stopService(name, deadline)));
  }

  /** Services whose settings changed are restarted (their in-flight requests drain for up to 5 s); the others keep running untouched. */
  async reload(config: BulwarkConfig): Promise<void> {
    await this.primaries.sync(config);
    await this.haproxy.sync(config, haproxyServed(config));
    if (this.workers || GatewayWorkers.resolveCount(config.gateway.workers) > 1) {
      // Workers are restarted as a group; each drains its in-flight requests first.
      const changed = JSON.stringify(proxied(config)) !== JSON.stringify(proxied(this.config)) || config.gateway.workers !== this.config.gateway.workers || config.gateway.accept !== this.config.gateway.accept;
      this.config = config;
      if (changed) {
        await this.stopAll(AbortSignal.timeout(10_000));
        await this.startAll();
      }
      return;
    }
    this.config = config;
    const wanted = new Map(proxied(config));
    for (const name of [...this.services.keys()]) {
      const next = wanted.get(name);
      if (!next || JSON.stringify(next) !== this.services.get(name)?.fingerprint) await this.stopService(name, AbortSignal.timeout(5_000));
    }
    for (const [name, service] of wanted) if (!this.services.has(name)) await this.startService(name, service);
    await this.redirects.sync([...wanted]);
  }

  /** An operator changed a pool: workers get it now, not at the next tick. */
  async poolChanged(service: string): Promise<void> {
    await Promise.all([this.workers?.sync(), this.haproxy.poolChanged(service)]);
  }

  /** The pool of a service whatever its engine, for the admin API and the dashboard. */
  pool(name: string): EndpointPool | undefined {
    return this.services.get(name)?.gateway.pool ?? this.haproxy.pool(name);
  }

  /** Live pools, for status and the admin API. */
  snapshot(): Record<string, unknown> {
    return { ...this.builtinSnapshot(), ...this.haproxy.snapshot() };
  }

  private builtinSnapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.services].map(([name, r]) => {
      const database = databaseOfKey(name);
      const primary = database === undefined ? {} : { database, primary: this.primaries.current(database)?.member ?? null };
      return [name, { listen: r.address, ...primary, ...r.gateway.pool.snapshot() }];
    }));
  }

  service(name: string): ServiceGateway | undefined {
    return this.services.get(name)?.gateway;
  }

  private build(name: string, service: ServiceConfig): ServiceGateway {
    const gateway = new ServiceGateway(name, service, this.metrics, this.log.child({ service: name }), { ...behaviourOf(name), stickySecret: this.stickySecret });
    if (this.stopping) gateway.markStopping();
    const database = databaseOfKey(name);
    if (database !== undefined) routeToPrimary(gateway, this.primaries.current(database), this.log);
    return gateway;
  }

  private async startService(name: string, service: ServiceConfig): Promise<void> {
    const gateway = this.build(name, service);
    await listenService(gateway.server, name, service.listen as string);
    const address = gateway.server.address();
    const shown = address && typeof address === 'object' ? `${address.address}:${address.port}` : String(service.listen);
    this.services.set(name, { gateway, fingerprint: JSON.stringify(service), address: shown });
    this.log.info({ service: name, listen: shown, protocol: service.protocol }, 'gateway listening');
  }

  private async stopService(name: string, deadline: AbortSignal): Promise<void> {
    const running = this.services.get(name);
    if (!running) return;
    this.services.delete(name);
    const server = running.gateway.server;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const isHttp = 'closeIdleConnections' in server;
    if (isHttp) (server as Server).closeIdleConnections();
    const force = () => (isHttp ? (server as Server).closeAllConnections() : (server as TcpProxy).closeAllSessions());
    if (deadline.aborted) force();
    else deadline.addEventListener('abort', force, { once: true });
    try {
      await closed;
    } finally {
      deadline.removeEventListener('abort', force);
    }
  }
}

/** Services with `listen` on the built-in engine, and the TCP service of every database with `postgres.listen` (key `db:<name>`). */
function proxied(config: BulwarkConfig): Array<[string, ServiceConfig]> {
  const builtin = Object.entries(config.services).filter(([, s]) => s.listen !== undefined && serviceEngine(s, config.gateway) === 'builtin');
  return [...builtin, ...databaseServices(config)];
}

/** Services with `listen` whose engine is `haproxy` (database front doors stay on the built-in engine). */
function haproxyServed(config: BulwarkConfig): Array<[string, ServiceConfig]> {
  return Object.entries(config.services).filter(([, s]) => s.listen !== undefined && serviceEngine(s, config.gateway) === 'haproxy');
}

function behaviourOf(key: string): ServiceBehaviour {
  return databaseOfKey(key) === undefined ? {} : DATABASE_BEHAVIOUR;
}
