import type { IncomingMessage } from 'node:http';
import type { HeaderMap } from './hop-headers.js';
import { normalizeIp } from './hop-headers.js';
import type { ProxyErrorReply } from './proxy-errors.js';
import type { RoutingHooks } from './types.js';

/** Runs the `admit` hook; a refusal becomes the proxy's own error reply (429 with Retry-After). */
export function admission(req: IncomingMessage, hooks: RoutingHooks): ProxyErrorReply | undefined {
  if (!hooks.admit) return undefined;
  const remoteAddress = req.socket.remoteAddress;
  const verdict = hooks.admit({ method: req.method ?? 'GET', headers: req.headers, clientIp: normalizeIp(remoteAddress), remoteAddress });
  if (verdict.ok) return undefined;
  return { code: 'RATE_LIMITED', retryAfterS: verdict.retryAfterS, message: verdict.message };
}

/** The client response's headers plus the hooks' Set-Cookie, appended after the upstream's own. */
export function withSetCookie(headers: HeaderMap, setCookie: string | undefined): HeaderMap {
  if (setCookie === undefined) return headers;
  const existing = headers['set-cookie'];
  const cookies = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  return { ...headers, 'set-cookie': [...cookies, setCookie] };
}
