import { AggregatorRegistry, Registry } from 'prom-client';
import type { Server } from 'node:http';
import { createLogger } from '../core/logger.js';
import { splitListen } from '../api/index.js';
import { registerGatewayMetrics } from './metrics.js';
import { ServiceGateway, type ServiceBehaviour } from './service-gateway.js';
import type { TcpProxy } from './proxy/index.js';
import { isToWorker, type FromWorker, type PoolControl, type ToWorker } from './worker-protocol.js';

/**
 * A gateway worker process (cluster): runs the same service gateways as the
 * daemon would, on the shared listen sockets, and applies the state the
 * primary pushes. Outlier ejections stay local to each worker, as in
 * HAProxy's per-process model.
 */
const log = createLogger({ level: (process.env.BULWARK_LOG_LEVEL as 'info' | undefined) ?? 'info' }).child({ subsystem: 'gateway', worker: process.pid });
const registry = new Registry();
// Constructing one makes prom-client answer the primary's metric requests; only `registry` is exported.
new AggregatorRegistry();
AggregatorRegistry.setRegistries([registry]);
const metrics = registerGatewayMetrics(registry, new Registry());
const services = new Map<string, ServiceGateway>();

function send(message: FromWorker): void {
  process.send?.(message);
}

async function configure(configs: Record<string, import('../config/index.js').ServiceConfig>, behaviours: Record<string, ServiceBehaviour>, stickySecret: string): Promise<void> {
  for (const [name, service] of Object.entries(configs)) {
    const gateway = new ServiceGateway(name, service, metrics, log.child({ service: name }), { ...behaviours[name], stickySecret });
    const { host, port } = splitListen(service.listen as string);
    await new Promise<void>((resolve, reject) => {
      gateway.server.once('error', reject);
      gateway.server.listen(port, host, () => resolve());
    });
    services.set(name, gateway);
    send({ type: 'bulwark:listening', service: name });
  }
}

function apply(pools: Record<string, PoolControl>): void {
  for (const [name, control] of Object.entries(pools)) {
    const gateway = services.get(name);
    if (!gateway) continue;
    const pool = gateway.pool;
    for (const [id, wanted] of Object.entries(control)) {
      const current = pool.get(id);
      if (!current) continue;
      // Through the service gateway: a database service closes the sessions of an endpoint marked down.
      if (current.health !== wanted.health) gateway.setHealth(id, wanted.health);
      if (current.admin !== wanted.admin) pool.setAdminState(id, wanted.admin);
      if (current.weight !== wanted.weight) pool.setWeight(id, wanted.weight);
    }
  }
}

async function stop(drainMs: number): Promise<void> {
  const deadline = setTimeout(() => {
    for (const g of services.values()) {
      if ('closeAllSessions' in g.server) (g.server as TcpProxy).closeAllSessions();
      else (g.server as Server).closeAllConnections();
    }
  }, drainMs);
  await Promise.all([...services.values()].map((g) => new Promise<void>((resolve) => {
    g.server.close(() => resolve());
    if ('closeIdleConnections' in g.server) (g.server as Server).closeIdleConnections();
  })));
  clearTimeout(deadline);
  process.exit(0);
}

process.on('message', (message: unknown) => {
  if (!isToWorker(message)) return;
  const m = message as ToWorker;
  if (m.type === 'bulwark:config') void configure(m.services, m.behaviours, m.stickySecret).catch((err: Error) => send({ type: 'bulwark:error', message: err.message }));
  else if (m.type === 'bulwark:state') {
    apply(m.pools);
    send({ type: 'bulwark:state-applied', seq: m.seq });
  }
  else if (m.type === 'bulwark:stop') void stop(m.drainMs);
});
let lastActive = '';
setInterval(() => {
  const pools = Object.fromEntries([...services].map(([name, g]) => [name, Object.fromEntries(g.pool.snapshot().endpoints.map((e) => [e.id, e.active]))]));
  const text = JSON.stringify(pools);
  if (text === lastActive) return;
  lastActive = text;
  send({ type: 'bulwark:active', pools });
}, 250).unref();

send({ type: 'bulwark:ready' });
// The primary decides when a worker stops; signals from a terminal go to the primary.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => void stop(1_000));
