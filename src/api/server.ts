import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';
import { listenOn } from '../core/net.js';
import type { Subsystem } from '../core/lifecycle.js';
import { createApiApp, type ApiDependencies } from './app.js';

/** The API as a subsystem: listen on start; on stop, refuse new connections and drain in-flight requests until the deadline. */
export class ApiServer implements Subsystem {
  readonly name = 'api';
  private server: Server | undefined;
  private listening = false;

  /** `listenKey`: where the address was set, named when it cannot listen (`--listen` when given on the command line). */
  constructor(private readonly listen: string, private readonly deps: ApiDependencies, private readonly log: Logger, private readonly listenKey = 'api.listen') {}

  ready(): boolean {
    return this.listening;
  }

  address(): { host: string; port: number } {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('API server is not listening');
    return { host: address.address, port: address.port };
  }

  async start(): Promise<void> {
    const app = createApiApp(this.deps);
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await listenOn(server, { what: 'the API', key: this.listenKey, listen: this.listen });
    this.server = server;
    this.listening = true;
    this.log.info({ listen: `${this.address().host}:${this.address().port}` }, 'API listening');
  }

  async stop(deadline: AbortSignal): Promise<void> {
    const server = this.server;
    if (!server || !this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const abort = () => {
      this.log.warn('drain deadline reached; closing API connections still in flight');
      server.closeAllConnections();
    };
    if (deadline.aborted) abort();
    else deadline.addEventListener('abort', abort, { once: true });
    try {
      await closed;
    } finally {
      deadline.removeEventListener('abort', abort);
    }
  }
}
