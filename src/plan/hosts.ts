/**
 * Hosts as failure domains. A host is named by the address a member is
 * reached at: a database member's `host`, the host of an endpoint's URL.
 * Names are compared as written (lower-cased, IPv6 compressed); DNS is not
 * resolved, so a name and its IP address count as two hosts. Every loopback
 * name (127.0.0.0/8, `localhost`, `*.localhost`, `::1`) means "this host".
 */

const LOOPBACK_KEY = 'loopback';

/** The identity of a host: equal keys are one machine. */
export function hostKey(host: string): string {
  const name = normalizeHost(host);
  return isLoopback(name) ? LOOPBACK_KEY : name;
}

export function isLoopback(host: string): boolean {
  const name = normalizeHost(host);
  if (name === 'localhost' || name.endsWith('.localhost') || name === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** The host of an endpoint URL (`http://host:port` or `host:port`); undefined when it does not parse. */
export function hostOfUrl(url: string): string | undefined {
  try {
    const host = new URL(url.includes('://') ? url : `tcp://${url}`).hostname;
    return host === '' ? undefined : normalizeHost(host);
  } catch {
    return undefined;
  }
}

/**
 * The failure domain of a member's host, or undefined when the host is not
 * known. A host sits inside one zone, so the domain is keyed by the declared
 * zone and the host: members that declare different zones are taken at their
 * word even on one address (the examples and `bulwark demo` stand every zone
 * in for with 127.0.0.1); `bulwark check` still warns about a database whose
 * members all share one address.
 */
export function hostDomainId(m: { host?: string; zone?: string }): string | undefined {
  if (m.host === undefined) return undefined;
  const key = hostKey(m.host);
  return m.zone === undefined ? `host:${key}` : `host:${m.zone}/${key}`;
}

function normalizeHost(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.includes(':')) {
    try {
      name = new URL(`http://[${name}]`).hostname.slice(1, -1); // compresses 0:0:0:0:0:0:0:1 to ::1
    } catch {
      // not an IPv6 address: keep it as written
    }
  }
  return name;
}
