import { hostDomainId } from './hosts.js';
import type { Component, Topology } from './model.js';
import type { SpofFinding } from './report.js';

/**
 * Single points of failure of one component. Backup members count: traffic
 * fails over to them, so a primary with a backup is not a member SPOF. Host,
 * zone and region checks need at least two members (one member is already a
 * member SPOF) and a known host, or zone, for each (placement we cannot see
 * proves nothing). Members share a host as the availability model has it:
 * one address (every loopback name is one) and no different zones declared.
 */
export function findSpofs(name: string, c: Component, t: Pick<Topology, 'zones'>): SpofFinding[] {
  const found: SpofFinding[] = [];
  const [only] = c.members;
  if (c.members.length === 1 && only) {
    found.push({
      component: name, scope: 'member', domain: only.name,
      message: `${name} runs on one member (${only.name}): losing it takes ${name} down; add a second member or a backup`,
    });
    return found;
  }
  if (c.members.length < 2) return found;
  const host = sharedHost(name, c);
  if (host) found.push(host);
  if (c.members.some((m) => m.zone === undefined)) return found;
  const zones = new Set(c.members.map((m) => m.zone ?? ''));
  const [zone] = zones;
  if (zones.size === 1 && zone !== undefined) {
    found.push({
      component: name, scope: 'zone', domain: zone,
      message: `all ${c.members.length} members of ${name} are in zone ${zone}: a zone outage takes ${name} down; spread members across zones`,
    });
  }
  const regions = new Set([...zones].map((z) => t.zones[z]?.region));
  const [region] = regions;
  if (regions.size === 1 && region !== undefined) {
    found.push({
      component: name, scope: 'region', domain: region,
      message: `all members of ${name} are in region ${region}: a region outage takes ${name} down; add a member (a backup is enough) in another region`,
    });
  }
  return found;
}

function sharedHost(name: string, c: Component): SpofFinding | undefined {
  const [first] = c.members;
  const id = first === undefined ? undefined : hostDomainId(first);
  if (first?.host === undefined || id === undefined || c.members.some((m) => hostDomainId(m) !== id)) return undefined;
  const what = c.kind === 'database' ? 'members' : c.kind === 'gateway' ? 'hosts' : 'endpoints';
  return {
    component: name, scope: 'host', domain: first.host,
    message: `all ${c.members.length} ${what} of ${c.kind} ${name} are on host ${first.host}: one host's failure takes ${name} down; ` +
      `put ${what} on other hosts`,
  };
}
