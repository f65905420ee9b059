import { hostDomainId } from './hosts.js';
import type { Topology } from './model.js';
import type { PlanFinding } from './report.js';

/**
 * A member with its failure domains resolved. Domains that are certain
 * (availability exactly 0 or 1) are folded into `availability`, so only
 * uncertain domains are left to enumerate: they are the ones that cost 2^n.
 *
 * A host that two or more members share (across all components, see
 * hostDomainId) is a domain too. Its availability is the highest availability
 * of a member on it: a member cannot be up more often than its host, and
 * nothing else in the model says how reliable the host is, so every member's
 * downtime is charged to the host as far as it can be. A member keeps its own
 * figure overall (host × member = the member's availability), and members on
 * one host fail together: three members of 99.5% on one host are 99.5%, one
 * host's availability, not 1 − 0.005³.
 */
export interface ResolvedMember {
  name: string;
  availability: number;
  /** Ids of uncertain failure domains (`region:x`, `zone:y`, `host:…`) the member needs up. */
  domains: string[];
}

export interface ResolvedTopology {
  members: Map<string, ResolvedMember[]>;
  /** Availability of every uncertain domain by id. */
  domainAvailability: Map<string, number>;
  findings: PlanFinding[];
}

export function resolveTopology(t: Topology): ResolvedTopology {
  const findings: PlanFinding[] = [];
  const domainAvailability = new Map<string, number>();
  const members = new Map<string, ResolvedMember[]>();
  const hosts = sharedHosts(t);
  for (const [component, c] of Object.entries(t.components)) {
    const resolved = c.members.map((m) => {
      const own = checkedAvailability(m.availability, `member ${m.name} of ${component}`, component, findings);
      const domains = m.zone === undefined ? [] : memberDomains(t, component, m.zone, findings);
      const hostId = hostDomainId(m);
      const host = hostId === undefined ? undefined : hosts.get(hostId);
      let availability = own;
      if (hostId !== undefined && host !== undefined) {
        // The member's own figure includes its host: what is left is the member given its host is up.
        availability = host === 0 ? 0 : own / host;
        domains.push({ id: hostId, availability: host });
      }
      const uncertain: string[] = [];
      for (const d of domains) {
        if (d.availability > 0 && d.availability < 1) {
          uncertain.push(d.id);
          domainAvailability.set(d.id, d.availability);
        } else {
          availability *= d.availability;
        }
      }
      return { name: m.name, availability, domains: uncertain };
    });
    members.set(component, resolved);
  }
  return { members, domainAvailability, findings };
}

interface Domain {
  id: string;
  availability: number;
}

/** Hosts with two or more members, and the availability of each: the best of its members'. */
function sharedHosts(t: Topology): Map<string, number> {
  const seen = new Map<string, { count: number; best: number }>();
  for (const c of Object.values(t.components)) {
    for (const m of c.members) {
      const id = hostDomainId(m);
      if (id === undefined) continue;
      const a = validFraction(m.availability) ? m.availability : 0;
      const found = seen.get(id);
      seen.set(id, { count: (found?.count ?? 0) + 1, best: Math.max(found?.best ?? 0, a) });
    }
  }
  const shared = new Map<string, number>();
  for (const [id, { count, best }] of seen) if (count >= 2) shared.set(id, best);
  return shared;
}

function validFraction(a: number): boolean {
  return Number.isFinite(a) && a >= 0 && a <= 1;
}

function memberDomains(t: Topology, component: string, zone: string, findings: PlanFinding[]): Domain[] {
  const z = t.zones[zone];
  if (!z) {
    findings.push({
      code: 'UNKNOWN_ZONE', severity: 'error', component,
      message: `${component} places a member in zone "${zone}", which is not declared under zones; it is treated as always up`,
    });
    return [];
  }
  const zoneDomain = { id: `zone:${zone}`, availability: checkedAvailability(z.availability, `zone ${zone}`, component, findings) };
  const r = t.regions[z.region];
  if (!r) {
    findings.push({
      code: 'UNKNOWN_REGION', severity: 'warning', component,
      message: `zone ${zone} is in region "${z.region}", which is not declared under regions; the region is treated as always up`,
    });
    return [zoneDomain];
  }
  const regionAvailability = checkedAvailability(r.availability, `region ${z.region}`, component, findings);
  return [{ id: `region:${z.region}`, availability: regionAvailability }, zoneDomain];
}

function checkedAvailability(a: number, what: string, component: string, findings: PlanFinding[]): number {
  if (validFraction(a)) return a;
  findings.push({
    code: 'INVALID_AVAILABILITY', severity: 'error', component,
    message: `${what} has availability ${a}, which is not a fraction between 0 and 1; it is treated as 0`,
  });
  return 0;
}
