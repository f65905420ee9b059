import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BulwarkConfig } from '../config/index.js';
import type { Subsystem } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { listenOn } from '../core/net.js';
import { buildSnapshot } from './model.js';
import { RateLimiter } from './rate-limit.js';
import { statusRoutes } from './routes.js';
import { Subscriptions, type SubscriptionsOptions } from './subscriptions/index.js';
import type { StatusProbeViews, StatusSnapshot, StatusStore } from './types.js';

export interface StatusPageOptions {
  config: BulwarkConfig;
  probes: StatusProbeViews;
  store: StatusStore;
  log: Logger;
  now?: () => number;
  /** Email and webhook subscribers: their routes on this listener and the fan-out of incident updates. */
  subscriptions?: SubscriptionsOptions;
}

/**
 * A snapshot serves every request for this long: the page is cached 30 s by
 * browsers anyway, and a burst of requests costs one read of the store.
 */
const SNAPSHOT_MS = 5_000;

/**
 * The public status page on its own listener (`status_page.listen`), never
 * the admin API's. Idle without `status_page`; a reload that adds, removes or
 * moves it starts, stops or moves the listener.
 */
export class StatusPageServer implements Subsystem<BulwarkConfig> {
  readonly name = 'status-page';
  private config: BulwarkConfig;
  private server: Server | undefined;
  private listen: string | undefined;
  private snap: { at: number; value: Promise<StatusSnapshot> } | undefined;
  private lastGood: StatusSnapshot | undefined;
  private readonly limiter: RateLimiter;
  private readonly now: () => number;
  private readonly subscriptions: Subscriptions | undefined;

  constructor(private readonly options: StatusPageOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.subscriptions = options.subscriptions && new Subscriptions(options.subscriptions, {
      config: () => this.config, log: options.log, now: options.now, baseUrl: () => this.listenUrl(),
    });
    this.limiter = new RateLimiter(options.config.status_page?.rate_limit ?? 300, this.now);
  }

  async start(): Promise<void> {
    // Runs without a status page too (it then queues nothing), so a reload that adds one needs nothing more.
    this.subscriptions?.start();
    const page = this.config.status_page;
    if (page === undefined) return;
    await this.open(page.listen);
  }

  async stop(deadline: AbortSignal): Promise<void> {
    await this.subscriptions?.stop();
    await this.close(deadline);
  }

  async reload(config: BulwarkConfig): Promise<void> {
    this.config = config;
    this.snap = undefined;
    const page = config.status_page;
    if (page) this.limiter.setRate(page.rate_limit);
    if (page?.listen === this.listen) return;
    await this.close(AbortSignal.timeout(5_000));
    if (page) await this.open(page.listen);
  }

  /** Where it listens; null while idle. */
  address(): { host: string; port: number } | null {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? { host: address.address, port: address.port } : null;
  }

  /**
   * The page's state, shared by every request for SNAPSHOT_MS. When the store
   * cannot be read, the last good one is served (its "Updated" time says how
   * old it is) and the next request tries again.
   */
  snapshot(): Promise<StatusSnapshot> {
    const now = this.now();
    if (this.snap === undefined || now - this.snap.at >= SNAPSHOT_MS) {
      const previous = this.lastGood;
      const value = buildSnapshot({ config: this.config, probes: this.options.probes, store: this.options.store, now }).then((snap) => {
        this.lastGood = snap;
        return snap;
      }, (err: unknown) => {
        this.snap = undefined;
        if (previous === undefined) throw err;
        this.options.log.warn({ err: (err as Error).message }, 'status page: reading the store failed; serving the last good state');
        return previous;
      });
      this.snap = { at: now, value };
    }
    return this.snap.value;
  }

  app() {
    return statusRoutes({
      snapshot: () => this.snapshot(),
      limiter: this.limiter,
      path: () => this.config.status_page?.path ?? '/',
      hidden: () => this.config.status_page?.public === false,
      onError: (err) => this.options.log.error({ err: (err as Error).message }, 'status page request failed'),
      extra: this.subscriptions?.routes,
    });
  }

  private listenUrl(): string {
    const a = this.address();
    return a ? `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` : 'http://localhost';
  }

  private async open(listen: string): Promise<void> {
    const server = createAdaptorServer({ fetch: this.app().fetch }) as Server;
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await listenOn(server, { what: 'the status page', key: 'status_page.listen', listen });
    this.server = server;
    this.listen = listen;
    const address = this.address();
    this.options.log.info({ listen: address ? `${address.host}:${address.port}` : listen }, 'status page listening');
  }

  private async close(deadline: AbortSignal): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.listen = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const abort = () => server.closeAllConnections();
    if (deadline.aborted) abort();
    else deadline.addEventListener('abort', abort, { once: true });
    try {
      await closed;
    } finally {
      deadline.removeEventListener('abort', abort);
    }
  }
}
