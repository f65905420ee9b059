import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ConnectError, connectTo, splice } from './connect.js';
import { normalizeIp } from './hop-headers.js';
import type { PickRequest, Upstream } from './types.js';

export type TcpOutcome =
  | { kind: 'connected'; durationMs: number }
  | { kind: 'connect_failure' | 'timeout'; durationMs: number }
  | { kind: 'closed'; durationMs: number; bytesIn: number; bytesOut: number };

/** The part of the routing hooks a TCP proxy uses; it sees no HTTP, so `pick` gets method 'TCP'. */
export interface TcpRoutingHooks {
  /** Called once per client connection before any pick (a rate limit); false closes the connection. */
  admit?(req: PickRequest): boolean;
  pick(req: PickRequest, tried: ReadonlySet<string>): Upstream | undefined;
  report(upstreamId: string, outcome: TcpOutcome): void;
  /**
   * With `queueMs`: resolves when an upstream may have become eligible (or after
   * `timeoutMs`), so a connection that found none can pick again.
   */
  waitForUpstream?(timeoutMs: number): Promise<void>;
}

export interface TcpProxyOptions {
  hooks: TcpRoutingHooks;
  connectTimeoutMs: number;
  /** A session with no bytes either way for this long is closed. 0 disables. */
  idleMs: number;
  /** Upstreams tried per client connection before giving up. Default 3. */
  maxAttempts?: number;
  /**
   * How long a new connection that finds no eligible upstream is held (paused)
   * waiting for one, as HAProxy's `timeout queue`; needs `hooks.waitForUpstream`. Default 0: closed at once.
   */
  queueMs?: number;
  log: Logger;
}

export interface TcpProxy extends Server {
  /**
   * Destroys every live session to `upstreamId` (e.g. the old primary after failover); returns how many.
   * A connection to it still being opened is dropped when it completes, and the client picks again.
   */
  closeSessionsTo(upstreamId: string): number;
  /** Destroys every live session (before `close()`, which waits for them); returns how many. */
  closeAllSessions(): number;
  /** Live sessions per upstream id. */
  activeSessions(): Map<string, number>;
}

/** Per upstream, how many times its sessions were closed: a connect that started before a close must not become a session. */
type Epochs = Map<string, number>;

async function connectFirst(client: Socket, options: TcpProxyOptions, epochs: Epochs): Promise<{ upstream: Upstream; socket: Socket } | undefined> {
  const pickReq: PickRequest = { method: 'TCP', headers: {}, clientIp: normalizeIp(client.remoteAddress) };
  if (options.hooks.admit && !options.hooks.admit(pickReq)) return undefined;
  const tried = new Set<string>();
  const maxAttempts = options.maxAttempts ?? 3;
  const queueUntil = performance.now() + (options.queueMs ?? 0);
  while (tried.size < maxAttempts && !client.destroyed) {
    const upstream = options.hooks.pick(pickReq, tried);
    if (upstream === undefined) {
      const left = queueUntil - performance.now();
      if (left <= 0 || !options.hooks.waitForUpstream) return undefined;
      await options.hooks.waitForUpstream(left);
      continue;
    }
    tried.add(upstream.id);
    const epoch = epochs.get(upstream.id) ?? 0;
    const started = performance.now();
    try {
      const socket = await connectTo(upstream.url, options.connectTimeoutMs);
      if ((epochs.get(upstream.id) ?? 0) !== epoch) {
        // Its sessions were closed while this one was connecting: it is no longer wanted (a former primary).
        socket.destroy();
        options.log.debug({ upstream: upstream.id }, 'tcp upstream closed while connecting; picking again');
        continue;
      }
      options.hooks.report(upstream.id, { kind: 'connected', durationMs: performance.now() - started });
      return { upstream, socket };
    } catch (err) {
      const kind = err instanceof ConnectError ? err.kind : 'connect_failure';
      options.hooks.report(upstream.id, { kind, durationMs: performance.now() - started });
      options.log.debug({ upstream: upstream.id, kind }, 'tcp upstream connect failed');
    }
  }
  return undefined;
}

/**
 * A layer-4 failover proxy (HAProxy `mode tcp`): each client connection goes to the
 * first upstream that accepts it, then bytes are piped untouched both ways.
 */
export function createTcpProxy(options: TcpProxyOptions): TcpProxy {
  const log = options.log.child({ component: 'tcp-proxy' });
  const sessions = new Map<string, Set<Socket>>();
  const epochs: Epochs = new Map();
  const server = createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => client.destroy());
    void connectFirst(client, { ...options, log }, epochs).then((connected) => {
      if (connected === undefined || client.destroyed) {
        if (connected) {
          connected.socket.destroy();
          // Every 'connected' report is paired with a 'closed' one (in-flight accounting relies on it).
          options.hooks.report(connected.upstream.id, { kind: 'closed', durationMs: 0, bytesIn: 0, bytesOut: 0 });
        }
        client.destroy();
        return;
      }
      track(connected.upstream.id, connected.socket, client);
    });
  });

  function track(upstreamId: string, upstream: Socket, client: Socket): void {
    const live = sessions.get(upstreamId) ?? new Set<Socket>();
    sessions.set(upstreamId, live.add(upstream));
    const started = performance.now();
    if (options.idleMs > 0) {
      for (const s of [client, upstream]) s.setTimeout(options.idleMs, () => s.destroy());
    }
    splice(client, upstream, () => {
      live.delete(upstream);
      if (live.size === 0 && sessions.get(upstreamId) === live) sessions.delete(upstreamId);
      const outcome = { kind: 'closed' as const, durationMs: performance.now() - started, bytesIn: client.bytesRead, bytesOut: client.bytesWritten };
      options.hooks.report(upstreamId, outcome);
    });
    client.resume();
  }

  function closeSessionsTo(upstreamId: string): number {
    epochs.set(upstreamId, (epochs.get(upstreamId) ?? 0) + 1);
    const live = sessions.get(upstreamId);
    if (!live) return 0;
    const count = live.size;
    for (const socket of [...live]) socket.destroy();
    log.info({ upstream: upstreamId, sessions: count }, 'closed sessions to upstream');
    return count;
  }

  return Object.assign(server, {
    closeSessionsTo,
    closeAllSessions(): number {
      return [...sessions.keys()].reduce((count, id) => count + closeSessionsTo(id), 0);
    },
    activeSessions(): Map<string, number> {
      return new Map([...sessions].map(([id, live]) => [id, live.size]));
    },
  });
}
