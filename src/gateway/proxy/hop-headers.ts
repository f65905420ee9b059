import type { IncomingHttpHeaders } from 'node:http';

export type HeaderMap = Record<string, string | string[]>;

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) plus the ones this gateway consumes itself:
 * - `te`: dropped entirely, `trailers` included, because the gateway does not relay
 *   response trailers; advertising that the client accepts them would be false.
 * - `proxy-authorization` / `proxy-authenticate`: credentials addressed to a proxy hop.
 *   This gateway is that hop, so they never travel on to application servers.
 * - `expect`: the gateway answers `100 Continue` itself (node does), and undici refuses it.
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

const REQUEST_ONLY: ReadonlySet<string> = new Set(['expect']);
const NONE: ReadonlySet<string> = new Set();
const KEEP_UPGRADE: ReadonlySet<string> = new Set(['upgrade']);

function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return NONE;
  const joined = Array.isArray(value) ? value.join(',') : value;
  const tokens = new Set<string>();
  for (const token of joined.split(',')) {
    const t = token.trim().toLowerCase();
    if (t.length > 0) tokens.add(t);
  }
  return tokens;
}

// A for-in loop over the (already lower-case) names: this runs twice per proxied request.
function stripHopByHop(headers: IncomingHttpHeaders, extra: ReadonlySet<string>, keep: ReadonlySet<string>): HeaderMap {
  const named = connectionTokens(headers.connection);
  const out: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (keep.has(lower) || !(HOP_BY_HOP.has(lower) || named.has(lower) || extra.has(lower))) out[lower] = value;
  }
  return out;
}

export interface ForwardedInfo {
  clientIp: string;
  proto: 'http' | 'https';
}

/**
 * Headers sent upstream. Host is kept as the client sent it (HAProxy's and Envoy's
 * default): upstream virtual hosts, absolute redirects and cookies see the public name.
 * X-Forwarded-For is appended to; X-Forwarded-Proto and -Host are overwritten because
 * only this hop knows how the client reached it.
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, info: ForwardedInfo, upgrade = false): HeaderMap {
  const out = stripHopByHop(headers, REQUEST_ONLY, upgrade ? KEEP_UPGRADE : NONE);
  if (upgrade) out.connection = 'upgrade';
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${info.clientIp}` : info.clientIp;
  out['x-forwarded-proto'] = info.proto;
  if (headers.host !== undefined) out['x-forwarded-host'] = headers.host;
  return out;
}

/** Headers sent back to the client: the upstream's minus its hop-by-hop fields. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): HeaderMap {
  return stripHopByHop(headers, NONE, NONE);
}

export function normalizeIp(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
