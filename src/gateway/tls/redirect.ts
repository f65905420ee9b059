import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServiceConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import { listenOn, splitListen } from '../../core/net.js';

interface Redirect {
  server: Server;
  /** What the listener was started for: it is restarted when this changes. */
  fingerprint: string;
}

/** `https://` + the request's host (its port replaced by the TLS listener's) + the path. */
function location(req: IncomingMessage, httpsPort: number): string | undefined {
  const host = req.headers.host;
  if (!host || !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d+)?$/.test(host)) return undefined;
  const name = host.replace(/:\d+$/, '');
  return `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url?.startsWith('/') ? req.url : '/'}`;
}

function redirectServer(httpsPort: number): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const to = location(req, httpsPort);
    if (!to) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('a Host header is required to redirect to https\n');
      return;
    }
    // 308 keeps the method and body, where a 301 lets clients turn a POST into a GET.
    res.writeHead(308, { location: to, 'content-type': 'text/plain', connection: 'close' }).end(`moved to ${to}\n`);
  });
}

/**
 * The plain-HTTP listeners of services with `tls.redirect_http`: every request
 * is sent to the service's https:// address. They run in the daemon in both
 * gateway modes (the traffic is one redirect per client).
 */
export class RedirectListeners {
  private readonly running = new Map<string, Redirect>();

  constructor(private readonly log: Logger) {}

  /** Starts the listeners `services` ask for and closes the others; unchanged ones keep running. */
  async sync(services: ReadonlyArray<[string, ServiceConfig]>): Promise<void> {
    const wanted = new Map(services.flatMap(([name, s]) => (s.tls?.redirect_http && s.listen ? [[name, { from: s.tls.redirect_http, port: splitListen(s.listen).port }] as const] : [])));
    for (const [name, r] of [...this.running]) {
      const next = wanted.get(name);
      if (next && JSON.stringify(next) === r.fingerprint) continue;
      this.running.delete(name);
      await close(r.server);
    }
    for (const [name, want] of wanted) {
      if (this.running.has(name)) continue;
      const server = redirectServer(want.port);
      await listenOn(server, { what: `the HTTP redirect of service ${name}`, key: `services.${name}.tls.redirect_http`, listen: want.from });
      this.running.set(name, { server, fingerprint: JSON.stringify(want) });
      this.log.info({ service: name, listen: want.from }, 'redirecting plain HTTP to https');
    }
  }

  async close(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(all.map((r) => close(r.server)));
  }
}

function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
