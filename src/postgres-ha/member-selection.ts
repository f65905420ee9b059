/**
 * Which members of `bulwark.yaml` this host runs. Every host runs `bulwark up`
 * with the same file; a member with `data_dir` runs on the host it names:
 * the one started with `--node <its host or name>`, or, without `--node`, the
 * one that has its `host` among its own addresses. Loopback members always
 * run here (the single-host layout). Members elsewhere are peers.
 */
import { hostname, networkInterfaces } from 'node:os';

export interface HostIdentity {
  /** `--node`: a member's `host` as written, or its name. */
  node: string | undefined;
  /** This host's addresses and names; consulted only without `node`. */
  addresses: ReadonlySet<string>;
}

/** This host as the OS sees it: every interface address, and its host name. */
export function thisHost(node?: string): HostIdentity {
  const addresses = new Set<string>([hostname()]);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) addresses.add(a.address);
  }
  return { node, addresses };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Whether this host runs the member (it must have a data directory to run at all). */
export function runsHere(member: { name: string; host: string; data_dir?: string | undefined }, where: HostIdentity): boolean {
  if (member.data_dir === undefined) return false;
  if (where.node !== undefined) return member.host === where.node || member.name === where.node;
  return isLoopback(member.host) || where.addresses.has(member.host);
}
