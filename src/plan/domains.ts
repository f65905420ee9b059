import type { Topology } from './model.js';
import type { PlanFinding } from './report.js';

/**
 * A member with its failure domains resolved. Domains that are certain
 * (availability exactly 0 or 1) are folded into `availability`, so only
 * uncertain domains are left to enumerate: they are the ones that cost 2^n.
 */
export interface ResolvedMember {
  name: string;
  availability: number;
  /** Ids of uncertain failure domains (`region:x`, `zone:y`) the member needs up. */
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
  for (const [component, c] of Object.entries(t.components)) {
    const resolved = c.members.map((m) => {
      const own = checkedAvailability(m.availability, `member ${m.name} of ${component}`, component, findings);
      const domains = m.zone === undefined ? [] : memberDomains(t, component, m.zone, findings);
      let availability = own;
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
  if (Number.isFinite(a) && a >= 0 && a <= 1) return a;
  findings.push({
    code: 'INVALID_AVAILABILITY', severity: 'error', component,
    message: `${what} has availability ${a}, which is not a fraction between 0 and 1; it is treated as 0`,
  });
  return 0;
}
