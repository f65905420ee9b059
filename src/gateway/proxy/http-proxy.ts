import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { errorMessage } from '../../core/errors.js';
import { forward, type ForwardDeps } from './forward.js';
import { sendError, writeRawError, type ProxyErrorCode } from './proxy-errors.js';
import type { HttpProxyOptions } from './types.js';
import { proxyUpgrade } from './upgrade.js';
import { UpstreamPools } from './upstream-pools.js';

const CLIENT_ERROR_CODES: Record<string, ProxyErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

function onClientError(deps: ForwardDeps) {
  return (err: Error & { code?: string }, socket: Duplex): void => {
    deps.log.debug({ code: err.code, err: errorMessage(err) }, 'client error');
    // Node's own rule: once a response started on this socket, raw bytes would corrupt it.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const code = CLIENT_ERROR_CODES[err.code ?? ''] ?? 'BAD_REQUEST';
    writeRawError(socket, { code });
  };
}

function onRequest(deps: ForwardDeps) {
  const extra = Object.entries(deps.options.responseHeaders ?? {});
  return (req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of extra) res.setHeader(name, value);
    forward(req, res, deps).catch((err: unknown) => {
      deps.log.error({ err, method: req.method, url: req.url }, 'proxying a request failed unexpectedly');
      sendError(res, { code: 'UPSTREAM_RESET' });
    });
  };
}

/**
 * The forwarding core of the failover gateway. Returns a node:http Server that is not
 * listening; balancing, outlier detection and retry policy come in through `hooks`.
 * Upstream pools are destroyed when the server closes.
 */
export function createHttpProxy(options: HttpProxyOptions): Server {
  const { timeouts, limits } = options;
  const log = options.log.child({ component: 'http-proxy' });
  const pools = new UpstreamPools({ connectMs: timeouts.connectMs, idleMs: timeouts.idleMs, tls: options.upstreamTls });
  const deps: ForwardDeps = { options, pools, log };
  const settings: ServerOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: timeouts.headerReadMs,
    // Upload time is already bounded by the overall deadline; node requires this >= headersTimeout.
    requestTimeout: Math.max(timeouts.overallMs, timeouts.headerReadMs),
    // Node checks the two timeouts above on this interval (30 s by default), too coarse for slowloris.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headerReadMs / 4))),
    keepAliveTimeout: timeouts.idleMs,
  };
  // node:https is node:http behind a tls.Server: a raw socket given to it (a gateway worker's hand-off) is shaken hands with first.
  const server: Server = options.tls ? createHttpsServer({ ...settings, ...options.tls }) as unknown as Server : createServer(settings);
  server.on('request', onRequest(deps));
  server.on('clientError', onClientError(deps));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    proxyUpgrade(req, socket, head, deps).catch((err: unknown) => {
      log.error({ err }, 'proxying an upgrade failed unexpectedly');
      socket.destroy();
    });
  });
  server.on('close', () => {
    void pools.destroy();
  });
  return server;
}
