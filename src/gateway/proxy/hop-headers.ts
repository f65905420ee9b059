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
const HOP_BY_HOP = new Set([
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

const REQUEST_ONLY = new Set(['expect']);

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  const tokens = joined.split(',').map((t) => t.trim().toLowerCase());
  return new Set(tokens.filter((t) => t.length > 0));
}

function stripHopByHop(headers: IncomingHttpHeaders, extra: ReadonlySet<string>, keep: ReadonlySet<string>): HeaderMap {
  const named = connectionTokens(headers.connection);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (keep.has(lower)) {
      out[lower] = value;
      continue;
    }
    if (HOP_BY_HOP.has(lower) || named.has(lower) || extra.has(lower)) continue;
    out[lower] = value;
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
  const keep: ReadonlySet<string> = upgrade ? new Set(['upgrade']) : new Set();
  const out = stripHopByHop(headers, REQUEST_ONLY, keep);
  if (upgrade) out.connection = 'upgrade';
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${info.clientIp}` : info.clientIp;
  out['x-forwarded-proto'] = info.proto;
  if (headers.host !== undefined) out['x-forwarded-host'] = headers.host;
  return out;
}

/** Headers sent back to the client: the upstream's minus its hop-by-hop fields. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): HeaderMap {
  return stripHopByHop(headers, new Set(), new Set());
}

export function normalizeIp(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
