import { isIP } from 'node:net';

/**
 * Endpoint URLs and member hosts reach probes, the gateway and web pages, so
 * anything but a host that can be dialled is refused here. The problems name
 * what is wrong without repeating the value, which may come from a secret;
 * the finding shows the value itself when it may.
 */

export const ENDPOINT_URL_FORMS = 'http://host:port, https://host[:port] or host:port (tcp://host:port with protocol: tcp)';
export const HOST_FORMS = 'a host name or IP address such as db1.internal, 10.0.0.5 or ::1, without a scheme or port';

const ENDPOINT_SCHEMES = new Set(['http', 'https', 'tcp']);
/** A scheme as RFC 3986 spells it, before the first ":". */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** host:port with nothing else: a name or IPv4 address, or an IPv6 address in brackets. */
const BARE_HOST_PORT = /^(\[[^\]]*\]|[^:/?#@[\]\s]+):(\d+)$/;
const DNS_LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** What is wrong with an endpoint URL, or undefined when it is one of ENDPOINT_URL_FORMS. */
export function endpointUrlProblem(value: string): string | undefined {
  if (value.trim() === '') return 'empty endpoint URL';
  const bare = BARE_HOST_PORT.exec(value);
  if (bare !== null) return hostPortProblem(bare[1] ?? '', bare[2] ?? '');
  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return 'not a URL or host:port';
  if (!ENDPOINT_SCHEMES.has(scheme)) return `unsupported scheme "${scheme}:"`;
  if (!value.slice(scheme.length + 1).startsWith('//')) return `no "//" after "${scheme}:"`;
  return schemeUrlProblem(value, scheme);
}

function schemeUrlProblem(value: string, scheme: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `malformed ${scheme}:// URL (check the host, the brackets around an IPv6 address and the port)`;
  }
  if (url.hostname === '') return 'no host';
  if (scheme === 'tcp' && url.port === '') return 'no port (a tcp:// URL needs one)';
  return hostPortProblem(url.hostname, url.port);
}

function hostPortProblem(host: string, port: string): string | undefined {
  if (!isDialableHost(host)) return 'invalid host';
  if (port === '') return undefined;
  const number = Number(port);
  return number >= 1 && number <= 65535 ? undefined : `port ${port} out of range 1-65535`;
}

/** A name, an IPv4 address, or an IPv6 address in brackets (as it is written before ":port"). */
function isDialableHost(host: string): boolean {
  const bracketed = /^\[(.*)\]$/.exec(host);
  if (bracketed !== null) return isIP(bracketed[1] ?? '') === 6;
  return isIP(host) === 4 || isDnsName(host);
}

/** What is wrong with a database member's host, or undefined when it is a name or an IP address. */
export function hostProblem(value: string): string | undefined {
  if (isIP(value) !== 0) return undefined;
  if (/^\[.*\]$/.test(value)) return 'an IPv6 address as a host takes no brackets';
  if (BARE_HOST_PORT.test(value)) return 'a host takes no port (members have "port" for it)';
  if (SCHEME.test(value)) return 'a host takes no scheme';
  return isDnsName(value) ? undefined : 'invalid host name';
}

function isDnsName(value: string): boolean {
  const labels = value.replace(/\.$/, '').split('.');
  if (value.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) return false;
  // All digits is an IPv4 address that isIP refused (999.1.1.1), not a name.
  return !labels.every((label) => /^\d+$/.test(label));
}
