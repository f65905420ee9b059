/**
 * Patroni-style health endpoints for one member, for load balancers
 * (HAProxy's `option httpchk`, which sends OPTIONS by default). Read-only and
 * without authentication, like Patroni's: they reveal the role and WAL
 * position, nothing else.
 *
 *   /primary, /master, /read-write  200: holds the leader lease, is primary, not fenced
 *   /replica[?lag=16MB]             200: a running replica, not fenced (and no further behind than `lag`)
 *   /read-only                      200: primary or replica, not fenced
 *   /health                         200: PostgreSQL is running and answering
 *   /liveness                       200: this daemon's HA loop for the member exists
 *   /patroni                        200 with the status body
 *   /                               as /primary (Patroni's behaviour)
 *
 * Every answer but HEAD's carries `{name, role, state, timeline, lsn, lag, leader, fenced, following}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseSize } from '../config/index.js';
import { errorMessage } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { MemberSnapshot } from './member-manager.js';

/** What the endpoints read: the member's current snapshot, or undefined while its manager is not running. */
export type SnapshotSource = () => MemberSnapshot | undefined;

export interface HealthServerOptions {
  /** For logs. */
  member: string;
  host: string;
  /** 0 lets the OS choose (tests). */
  port: number;
  snapshot: SnapshotSource;
  logger?: Logger;
}

const METHODS = ['GET', 'HEAD', 'OPTIONS'];

type Check = (s: MemberSnapshot, query: URLSearchParams) => boolean;

const isPrimary: Check = (s) => s.leader && s.role === 'primary' && !s.fenced;
const isReplica: Check = (s, query) => s.role === 'replica' && !s.fenced && withinLag(s, query.get('lag'));

const CHECKS: Record<string, Check> = {
  '/': isPrimary,
  '/primary': isPrimary,
  '/master': isPrimary,
  '/read-write': isPrimary,
  '/replica': isReplica,
  '/read-only': (s, q) => isPrimary(s, q) || isReplica(s, q),
  '/health': (s) => s.role === 'primary' || s.role === 'replica',
  '/liveness': () => true,
  '/patroni': () => true,
};

/** `?lag=` as Patroni takes it: bytes, or a size such as 16MB. An unparsable value fails the check rather than ignoring it. */
function withinLag(s: MemberSnapshot, raw: string | null): boolean {
  if (raw === null) return true;
  const max = parseSize(raw);
  if (!max.ok) return false;
  return s.lagBytes !== undefined && s.lagBytes <= max.value;
}

export function statusBody(s: MemberSnapshot | undefined): Record<string, unknown> {
  if (!s) return { role: 'unknown', state: 'member manager not running', leader: false, fenced: false };
  return {
    name: s.name, role: s.role, state: s.state, timeline: s.timeline, lsn: s.lsn, lag: s.lagBytes ?? null,
    leader: s.leader, fenced: s.fenced, following: s.following ?? null,
  };
}

export class HealthServer {
  private server: Server | undefined;
  private readonly log: Logger;

  constructor(private readonly o: HealthServerOptions) {
    this.log = (o.logger ?? silentLogger()).child({ component: 'health-server', member: o.member });
  }

  /** The bound port (useful with port 0); undefined before start. */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.headersTimeout = 5_000;
    server.requestTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new Error(`health endpoint of ${this.o.member} cannot listen on ${this.o.host}:${this.o.port}: ${errorMessage(err)}`, { cause: err });
    });
    server.on('error', (err) => this.log.error({ err: errorMessage(err) }, 'health endpoint error'));
    this.server = server;
    this.log.info({ host: this.o.host, port: this.port }, 'health endpoint listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://health');
    const check = CHECKS[url.pathname.replace(/(.)\/+$/, '$1')];
    if (!METHODS.includes(method)) return send(res, 405, { error: `method ${method} not allowed; use GET, HEAD or OPTIONS` }, method, { allow: METHODS.join(', ') });
    if (!check) return send(res, 404, { error: `no health endpoint ${url.pathname}`, endpoints: Object.keys(CHECKS) }, method);
    let snapshot: MemberSnapshot | undefined;
    try {
      snapshot = this.o.snapshot();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'snapshot failed');
    }
    const ok = snapshot !== undefined && check(snapshot, url.searchParams);
    send(res, ok ? 200 : 503, statusBody(snapshot), method);
  }
}

function send(res: ServerResponse, status: number, body: unknown, method: string, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(method === 'HEAD' ? undefined : text);
}
