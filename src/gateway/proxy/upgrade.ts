import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { admission } from './admission.js';
import { ConnectError, connectTo, splice } from './connect.js';
import type { ForwardDeps } from './forward.js';
import { normalizeIp, upstreamRequestHeaders, type HeaderMap } from './hop-headers.js';
import { writeRawError, type ProxyErrorCode } from './proxy-errors.js';
import type { FailureKind, PickRequest, Upstream } from './types.js';
import { sleep } from '../../core/time.js';

function requestHead(req: IncomingMessage, upstream: Upstream, headers: HeaderMap): string {
  const base = upstream.url.pathname.replace(/\/$/, '');
  const lines = [`${req.method ?? 'GET'} ${base}${req.url ?? '/'} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function statusOfFirstChunk(chunk: Buffer): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(chunk.subarray(0, 16).toString('latin1'));
  return match ? Number(match[1]) : undefined;
}

/** Connects to upstreams in turn until one accepts the TCP connection. */
async function connectAny(pickReq: PickRequest, deps: ForwardDeps): Promise<{ upstream: Upstream; socket: Socket; started: number } | FailureKind | undefined> {
  const { hooks, timeouts } = deps.options;
  const tried = new Set<string>();
  let last: FailureKind | undefined;
  let upstream = hooks.pick(pickReq, tried);
  while (upstream !== undefined) {
    tried.add(upstream.id);
    const started = performance.now();
    try {
      const socket = await connectTo(upstream.url, timeouts.connectMs);
      return { upstream, socket, started };
    } catch (err) {
      last = err instanceof ConnectError ? err.kind : 'connect_failure';
      const outcome = { kind: last, durationMs: performance.now() - started };
      hooks.report(upstream.id, outcome);
      const decision = hooks.shouldRetry({ attempt: tried.size, method: pickReq.method, outcome });
      if (!decision.retry) break;
      if (decision.delayMs > 0) await sleep(decision.delayMs);
      upstream = hooks.pick(pickReq, tried);
    }
  }
  return last;
}

const FAILURE_CODE: Record<FailureKind, ProxyErrorCode> = {
  connect_failure: 'UPSTREAM_CONNECT_FAILED',
  reset: 'UPSTREAM_RESET',
  timeout: 'UPSTREAM_TIMEOUT',
};

/**
 * WebSocket and other `Upgrade` requests: the request head is rewritten like any other
 * request (hop-by-hop fields removed, Upgrade kept), written to a raw connection, and
 * from then on bytes flow both ways untouched. Retries happen only on connect failure,
 * before any byte was sent. Upgrades take no concurrency slot: they live for hours.
 */
export async function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, deps: ForwardDeps): Promise<void> {
  client.on('error', () => client.destroy());
  const refused = admission(req, deps.options.hooks);
  if (refused) {
    writeRawError(client, refused);
    return;
  }
  const clientIp = normalizeIp(req.socket.remoteAddress);
  const pickReq: PickRequest = { method: req.method ?? 'GET', headers: req.headers, clientIp };
  const connected = await connectAny(pickReq, deps);
  if (connected === undefined || typeof connected === 'string') {
    const code = connected === undefined ? 'NO_UPSTREAM_AVAILABLE' : FAILURE_CODE[connected];
    writeRawError(client, { code, retryAfterS: connected === undefined ? (deps.options.noUpstreamRetryAfterS ?? 1) : undefined });
    return;
  }
  const { upstream, socket, started } = connected;
  const proto = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  socket.write(requestHead(req, upstream, upstreamRequestHeaders(req.headers, { clientIp, proto }, true)));
  if (head.length > 0) socket.write(head);
  let reported = false;
  socket.once('data', (chunk: Buffer) => {
    reported = true;
    const status = statusOfFirstChunk(chunk) ?? 502;
    deps.options.hooks.report(upstream.id, { kind: 'response', status, durationMs: performance.now() - started });
  });
  splice(client, socket, () => {
    if (!reported) deps.options.hooks.report(upstream.id, { kind: 'reset', durationMs: performance.now() - started });
    deps.log.debug({ upstream: upstream.id }, 'upgraded connection closed');
  });
}
