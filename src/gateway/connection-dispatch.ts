import type { Worker } from 'node:cluster';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../core/logger.js';
import { listenService } from './listen.js';
import type { ConnectionCounts } from './worker-protocol.js';

/**
 * In worker mode the primary accepts every service's connections and hands each
 * to the worker with the fewest open connections. Letting the kernel spread
 * accepts over a shared socket (cluster's SCHED_NONE) left one worker with 50 of
 * a load generator's 64 keep-alive connections while the other idled, and
 * cluster's round robin ignores load. A proxy's connections (keep-alive clients,
 * database sessions) live long, so open connections are the load to balance.
 * The cost is one file-descriptor pass per new connection, as with cluster's
 * default round robin.
 */
export class ConnectionDispatcher {
  private readonly listeners = new Map<string, Server>();
  /** Connections handed to each worker, ever. */
  private readonly handedOff = new Map<Worker, number>();
  /** What each worker last said it holds, and how many hand-offs it had received by then. */
  private readonly reported = new Map<Worker, ConnectionCounts>();
  /** Connections given to `worker.send` and not yet written to the worker's channel. */
  private readonly unsent = new Map<Worker, Set<Socket>>();

  constructor(
    private readonly workers: () => Iterable<Worker>,
    private readonly log: Logger,
  ) {}

  async listen(service: string, address: string): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (socket) => this.handOff(service, socket));
    await listenService(server, service, address);
    // Only once listening: a failure to listen is the error listenService throws, not a second log line.
    server.on('error', (err) => this.log.error({ service, err: err.message }, 'gateway listener failed'));
    this.listeners.set(service, server);
  }

  /** Stops accepting; connections already handed off stay with their workers. */
  close(): void {
    for (const server of this.listeners.values()) server.close();
    this.listeners.clear();
  }

  report(worker: Worker, counts: ConnectionCounts): void {
    this.reported.set(worker, counts);
  }

  /** A worker is gone: connections still waiting to be written to it are closed. */
  forget(worker: Worker): void {
    for (const socket of this.unsent.get(worker) ?? []) socket.destroy();
    this.unsent.delete(worker);
    this.handedOff.delete(worker);
    this.reported.delete(worker);
  }

  /** Open connections of `worker`: its last report plus what was handed to it since. */
  openOn(worker: Worker): number {
    const last = this.reported.get(worker) ?? { open: 0, received: 0 };
    return last.open + (this.handedOff.get(worker) ?? 0) - last.received;
  }

  /**
   * Sent with `keepOpen` and closed here once written: by default Node holds the
   * primary's copy until the worker acknowledges it and queues later ones behind
   * that, so a worker dying at the wrong moment left clients hanging on
   * connections nobody served. Written but unread, a descriptor dies with the
   * worker's end of the channel; never written, it is closed on the worker's exit.
   */
  private handOff(service: string, socket: Socket, retried = false): void {
    const worker = this.leastLoaded();
    if (!worker || socket.destroyed) {
      socket.destroy();
      return;
    }
    this.handedOff.set(worker, (this.handedOff.get(worker) ?? 0) + 1);
    const unsent = this.unsent.get(worker) ?? new Set<Socket>();
    this.unsent.set(worker, unsent.add(socket));
    worker.send({ type: 'bulwark:connection', service }, socket, { keepOpen: true }, (err: Error | null) => {
      unsent.delete(socket);
      if (!err) {
        socket.destroy();
        return;
      }
      this.log.warn({ service, worker: worker.process.pid, err: err.message }, retried ? 'could not hand a connection to a gateway worker; closed it' : 'could not hand a connection to a gateway worker; trying another');
      if (retried) socket.destroy();
      else this.handOff(service, socket, true);
    });
  }

  private leastLoaded(): Worker | undefined {
    let best: Worker | undefined;
    let bestOpen = Infinity;
    for (const worker of this.workers()) {
      if (!worker.isConnected()) continue;
      const open = this.openOn(worker);
      if (open < bestOpen) {
        best = worker;
        bestOpen = open;
      }
    }
    return best;
  }
}
