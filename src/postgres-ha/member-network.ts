/**
 * What a member lets in from the network: the addresses it listens on and the
 * pg_hba.conf entries for its peers' hosts. Members on one host (loopback)
 * need none of this: the loopback entries initdb writes cover them.
 *
 * pg_hba.conf is copied to a replica by the base backup, with the source's
 * peer block in it (which names the replica's own address, not the source's):
 * the block is rewritten at every start, so each member's file names exactly
 * its current peers.
 */
import { isIP } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isLoopback } from './member-selection.js';

const BEGIN = '# bulwark postgres-ha: peers (rewritten at every start; edits here are lost)';
const END = '# bulwark postgres-ha: end of peers';

export interface HbaRoles {
  /** The role standbys stream and base backups copy as. */
  replicationUser: string;
  /** `hostssl` instead of `host`: peers must connect over TLS. */
  tls: boolean;
}

/** listen_addresses: the member's own address, and loopback for tools on the host. */
export function listenAddresses(host: string): string {
  return isLoopback(host) ? host : `127.0.0.1,${host}`;
}

/**
 * One scram-sha-256 entry per peer host for replication (the replication role) and for every
 * database (bulwark's superuser queries, pg_rewind, and clients as before), and for our own host:
 * the manager reaches its own server at the member's address, which is not loopback. Only these
 * hosts may connect from the network; loopback is covered by initdb's entries.
 */
export function peerHbaLines(ownHost: string, peerHosts: readonly string[], roles: HbaRoles): string[] {
  const hosts = [...new Set([ownHost, ...peerHosts])].filter((h) => !isLoopback(h)).sort();
  const kind = roles.tls ? 'hostssl' : 'host';
  return hosts.flatMap((h) => {
    const address = hbaAddress(h);
    return [`${kind} replication ${hbaName(roles.replicationUser)} ${address} scram-sha-256`, `${kind} all all ${address} scram-sha-256`];
  });
}

/** The peer block of pg_hba.conf replaced by `lines` (removed when empty). Returns whether the file changed. */
export async function writePeerHba(dataDir: string, lines: readonly string[]): Promise<boolean> {
  const file = join(dataDir, 'pg_hba.conf');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  const next = withPeerBlock(text, lines);
  if (next === text) return false;
  await writeFile(file, next);
  return true;
}

export function withPeerBlock(text: string, lines: readonly string[]): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const rest = start >= 0 && end > start ? text.slice(0, start) + text.slice(end + END.length).replace(/^\n/, '') : text;
  if (lines.length === 0) return rest;
  return `${rest}${rest.endsWith('\n') || rest === '' ? '' : '\n'}${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

/** An address with its mask (a single host); a host name as written (PostgreSQL resolves it). */
function hbaAddress(host: string): string {
  const family = isIP(host);
  if (family === 4) return `${host}/32`;
  if (family === 6) return `${host}/128`;
  return host;
}

/** A role name in pg_hba.conf: quoted when it is not a plain word. */
export function hbaName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
