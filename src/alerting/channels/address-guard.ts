import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

type AllLookup = (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * Link-local ranges, where cloud metadata services answer (169.254.169.254,
 * AWS's fd00:ec2::254). An alert URL pointing there would hand a
 * configuration author the machine's cloud credentials. Loopback and private
 * ranges stay allowed: local receivers and relays are legitimate targets.
 */
const BLOCKED = new BlockList();
BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
BLOCKED.addSubnet('fe80::', 10, 'ipv6');
BLOCKED.addAddress('fd00:ec2::254', 'ipv6');

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, a link-local address where cloud metadata services live; alert channels may not send there`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * The resolver every channel connection uses: the check happens on the very
 * addresses the socket connects to, so a name cannot pass a check and then
 * resolve elsewhere (DNS rebinding).
 */
export function makeGuardedLookup(resolve: AllLookup = (host, opts, cb) => dnsLookup(host, { ...opts, all: true }, cb)): LookupFunction {
  return (hostname, options, callback) => resolve(hostname, options, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const blocked = addresses.find((a) => isBlockedAddress(a.address));
    if (blocked) return callback(new BlockedAddressError(hostname, blocked.address), '', 0);
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    return callback(null, first.address, first.family);
  });
}

export const guardedLookup = makeGuardedLookup();

export type TargetCheck = { ok: true; url: URL } | { ok: false; error: string };

/** Refuses what no alert channel should send to, before any connection is made. */
export function checkTargetUrl(raw: string): TargetCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: 'the channel URL is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `only http and https URLs are allowed, not ${url.protocol}` };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, error: `the URL for ${url.host} has credentials in it; put them in a header instead` };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isBlockedAddress(host)) {
    return { ok: false, error: new BlockedAddressError(url.hostname, host).message };
  }
  return { ok: true, url };
}
