import { AggregatorRegistry, Registry } from 'prom-client';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createLogger } from '../core/logger.js';
import { listenService } from './listen.js';
import { registerGatewayMetrics } from './metrics.js';
import { ServiceGateway, type ServiceBehaviour } from './service-gateway.js';
import type { TcpProxy } from './proxy/index.js';
import { isToWorker, type FromWorker, type PoolControl, type ToWorker } from './worker-protocol.js';
import { sleep } from '../core/time.js';

/**
 * A gateway worker process (cluster): runs the same service gateways as the
 * daemon would on the connections the primary hands it, and applies the state
 * the primary pushes. Outlier ejections stay local to each worker, as in
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

/** Client connections the primary handed over, per service, until they close. */
const connections = new Map<string, Set<Socket>>();
let received = 0;
let stopping = false;
/** The daemon is shutting down ('bulwark:stopping'): level changes are not failovers. */
let shuttingDown = false;

async function configure(configs: Record<string, import('../config/index.js').ServiceConfig>, behaviours: Record<string, ServiceBehaviour>, stickySecret: string, listen: boolean): Promise<void> {
  for (const [name, service] of Object.entries(configs)) {
    const gateway = new ServiceGateway(name, service, metrics, log.child({ service: name }), { ...behaviours[name], stickySecret });
    if (shuttingDown) gateway.markStopping();
    const open = new Set<Socket>();
    services.set(name, gateway);
    connections.set(name, open);
    if (listen) {
      // cluster shares the daemon's listening socket; the kernel picks the worker that accepts.
      gateway.server.on('connection', (socket: Socket) => {
        received++;
        open.add(socket);
        socket.once('close', () => open.delete(socket));
      });
      await listenService(gateway.server, name, String(service.listen));
    } else {
      // The primary accepts; this server never listens. node:http starts its header and
      // request timeout checks on 'listening', so that event is given here.
      gateway.server.emit('listening');
    }
  }
  send({ type: 'bulwark:configured' });
}

function serve(service: string, socket: Socket | undefined): void {
  received++;
  const gateway = services.get(service);
  const open = connections.get(service);
  if (!socket) return;
  if (!gateway || !open || stopping) {
    socket.destroy();
    return;
  }
  open.add(socket);
  socket.once('close', () => open.delete(socket));
  // The TCP proxy reads nothing before its upstream is connected; node:http reads at once.
  if (!('closeIdleConnections' in gateway.server)) socket.pause();
  gateway.server.emit('connection', socket);
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

function openConnections(): number {
  let n = 0;
  for (const open of connections.values()) n += open.size;
  return n;
}

/** Lets in-flight requests and sessions finish for up to `drainMs`, then cuts the rest. */
async function stop(drainMs: number): Promise<void> {
  stopping = true;
  const deadline = Date.now() + drainMs;
  for (const g of services.values()) g.server.close();
  while (openConnections() > 0 && Date.now() < deadline) {
    for (const g of services.values()) if ('closeIdleConnections' in g.server) (g.server as Server).closeIdleConnections();
    await sleep(50);
  }
  for (const g of services.values()) {
    if ('closeAllSessions' in g.server) (g.server as TcpProxy).closeAllSessions();
    else (g.server as Server).closeAllConnections();
  }
  for (const open of connections.values()) for (const socket of open) socket.destroy();
  process.exit(0);
}

process.on('message', (message: unknown, handle: unknown) => {
  if (!isToWorker(message)) return;
  const m = message as ToWorker;
  if (m.type === 'bulwark:connection') serve(m.service, handle as Socket | undefined);
  else if (m.type === 'bulwark:config') {
    configure(m.services, m.behaviours, m.stickySecret, m.listen).catch((err: Error) => send({ type: 'bulwark:error', message: err.message }));
  }
  else if (m.type === 'bulwark:state') {
    apply(m.pools);
    send({ type: 'bulwark:state-applied', seq: m.seq });
  }
  else if (m.type === 'bulwark:stopping') {
    shuttingDown = true;
    for (const gateway of services.values()) gateway.markStopping();
  }
  else if (m.type === 'bulwark:stop') void stop(m.drainMs);
});
let lastActive = '';
setInterval(() => {
  const pools = Object.fromEntries([...services].map(([name, g]) => [name, Object.fromEntries(g.pool.snapshot().endpoints.map((e) => [e.id, e.active]))]));
  const counts = { open: openConnections(), received };
  const text = JSON.stringify([pools, counts]);
  if (text === lastActive) return;
  lastActive = text;
  send({ type: 'bulwark:active', pools, connections: counts });
}, 250).unref();

send({ type: 'bulwark:ready' });
// The primary decides when a worker stops; signals from a terminal go to the primary.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => void stop(1_000));
