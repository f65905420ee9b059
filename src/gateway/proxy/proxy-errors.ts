import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

/** Stable codes of errors the gateway itself answers with; mapped to HTTP here only. */
export type ProxyErrorCode =
  | 'UPSTREAM_CONNECT_FAILED'
  | 'UPSTREAM_TLS_FAILED'
  | 'UPSTREAM_RESET'
  | 'UPSTREAM_TIMEOUT'
  | 'NO_UPSTREAM_AVAILABLE'
  | 'UPSTREAM_OVERLOADED'
  | 'RATE_LIMITED'
  | 'PAYLOAD_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'BAD_REQUEST';

const STATUS: Record<ProxyErrorCode, number> = {
  UPSTREAM_CONNECT_FAILED: 502,
  UPSTREAM_TLS_FAILED: 502,
  UPSTREAM_RESET: 502,
  UPSTREAM_TIMEOUT: 504,
  NO_UPSTREAM_AVAILABLE: 503,
  UPSTREAM_OVERLOADED: 503,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  BAD_REQUEST: 400,
};

const MESSAGES: Record<ProxyErrorCode, string> = {
  UPSTREAM_CONNECT_FAILED: 'could not connect to any upstream',
  UPSTREAM_TLS_FAILED: 'the upstream\'s TLS certificate could not be verified (the gateway log names the reason; check the service\'s upstream_tls ca and servername)',
  UPSTREAM_RESET: 'the upstream closed the connection before responding',
  UPSTREAM_TIMEOUT: 'the upstream did not respond in time',
  NO_UPSTREAM_AVAILABLE: 'no healthy upstream is available',
  UPSTREAM_OVERLOADED: 'every available upstream is at its concurrency limit',
  RATE_LIMITED: 'too many requests from this client; retry after the time in Retry-After',
  PAYLOAD_TOO_LARGE: 'the request body is larger than this gateway accepts',
  HEADERS_TOO_LARGE: 'the request headers are larger than this gateway accepts',
  REQUEST_TIMEOUT: 'the request was not received in time',
  BAD_REQUEST: 'the request could not be parsed',
};

export interface ProxyErrorReply {
  code: ProxyErrorCode;
  retryAfterS?: number | undefined;
  /** Replaces the code's default message (e.g. a hook's own explanation). */
  message?: string | undefined;
}

export function statusOf(code: ProxyErrorCode): number {
  return STATUS[code];
}

function body(reply: ProxyErrorReply): string {
  return JSON.stringify({ error: { code: reply.code, message: reply.message ?? MESSAGES[reply.code] } });
}

function headersOf(reply: ProxyErrorReply, payload: string, close: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  };
  if (reply.retryAfterS !== undefined) headers['retry-after'] = String(Math.max(0, Math.ceil(reply.retryAfterS)));
  if (close) headers.connection = 'close';
  return headers;
}

/** Answer on a live response; when headers already left, the only honest signal is a reset. */
export function sendError(res: ServerResponse, reply: ProxyErrorReply, close = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = body(reply);
  res.writeHead(statusOf(reply.code), headersOf(reply, payload, close));
  res.end(payload);
}

/** Answer on a raw socket (client errors, upgrades), then close it. */
export function writeRawError(socket: Duplex, reply: ProxyErrorReply): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = statusOf(reply.code);
  const payload = body(reply);
  const head = Object.entries(headersOf(reply, payload, true))
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n${payload}`);
}
