import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { BulwarkConfig, ServiceConfig } from '../config/index.js';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Subsystem } from '../daemon/lifecycle.js';
import type { EventBus } from '../events/index.js';
import type { ProbeEvents } from '../probes/index.js';
import { splitListen } from '../api/index.js';
import { registerGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { ServiceGateway } from './service-gateway.js';
import type { TcpProxy } from './proxy/index.js';

interface Running {
  gateway: ServiceGateway;
  fingerprint: string;
  address: string;
}

/**
 * The built-in data plane: one listener per service that has `listen`,
 * routing on what the probes publish and on what it sees in live traffic.
 */
export class Gateway implements Subsystem<BulwarkConfig> {
  readonly name = 'gateway';
  private readonly services = new Map<string, Running>();
  private readonly metrics: GatewayMetrics;
  private unsubscribe: (() => void) | undefined;

  constructor(private config: BulwarkConfig, private readonly bus: EventBus<ProbeEvents>, registry: Registry, private readonly log: Logger) {
    this.metrics = registerGatewayMetrics(registry);
  }

  async start(): Promise<void> {
    this.unsubscribe = this.bus.on('target.state', (e) => {
      if (e.target.owner.kind === 'service') this.services.get(e.target.owner.name)?.gateway.setHealth(e.target.member, e.to);
    });
    for (const [name, service] of proxied(this.config)) await this.startService(name, service);
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.services.keys()].map((name) => this.stopService(name, deadline)));
  }

  /** Services whose settings changed are restarted (their in-flight requests drain for up to 5 s); the others keep running untouched. */
  async reload(config: BulwarkConfig): Promise<void> {
    this.config = config;
    const wanted = new Map(proxied(config));
    for (const name of [...this.services.keys()]) {
      const next = wanted.get(name);
      if (!next || JSON.stringify(next) !== this.services.get(name)?.fingerprint) await this.stopService(name, AbortSignal.timeout(5_000));
    }
    for (const [name, service] of wanted) if (!this.services.has(name)) await this.startService(name, service);
  }

  /** Live pools, for status and the admin API. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.services].map(([name, r]) => [name, { listen: r.address, ...r.gateway.pool.snapshot() }]));
  }

  service(name: string): ServiceGateway | undefined {
    return this.services.get(name)?.gateway;
  }

  private async startService(name: string, service: ServiceConfig): Promise<void> {
    const gateway = new ServiceGateway(name, service, this.metrics, this.log.child({ service: name }));
    const { host, port } = splitListen(service.listen as string);
    await new Promise<void>((resolve, reject) => {
      gateway.server.once('error', (err: NodeJS.ErrnoException) => reject(new BulwarkError('USAGE', `service ${name} cannot listen on ${service.listen}: ${err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message}`, {
        hint: `change services.${name}.listen, or stop what holds the port`, cause: err,
      })));
      gateway.server.listen(port, host, () => resolve());
    });
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

function proxied(config: BulwarkConfig): Array<[string, ServiceConfig]> {
  return Object.entries(config.services).filter(([, s]) => s.listen !== undefined);
}
