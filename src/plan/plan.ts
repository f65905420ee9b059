import { modelAvailability, MAX_EXACT_DOMAINS } from './availability.js';
import { DAYS_PER_YEAR, downtimeFor, MONTH_MS, WEEK_MS, YEAR_MS } from './budget.js';
import { resolveTopology, type ResolvedTopology } from './domains.js';
import { formatDuration, formatPercent, percentDigits } from './format.js';
import { closureOf, dependencyGraph } from './graph.js';
import type { Topology } from './model.js';
import { estimateRecovery } from './recovery.js';
import type { ComponentPlan, PlanFinding, PlanReport, TierTarget } from './report.js';
import { findSpofs } from './spof.js';
import { recommendStrategy } from './strategy.js';

/** Float noise must not turn an exact 99.9% into a miss. */
const TARGET_EPSILON = 1e-12;

export interface PlanOptions {
  /** Uncertain zones + regions + shared hosts up to which availability is exact; default 16. */
  maxExactDomains?: number;
}

/** The availability plan of a topology: pure, never throws on a bad topology (it reports findings). */
export function planTopology(t: Topology, options: PlanOptions = {}): PlanReport {
  const maxExactDomains = options.maxExactDomains ?? MAX_EXACT_DOMAINS;
  const resolved = resolveTopology(t);
  const graph = dependencyGraph(t.components);
  const findings: PlanFinding[] = [...resolved.findings, ...graph.findings];
  const components = Object.keys(t.components).map((name) =>
    planComponent(name, t, resolved, closureOf(name, graph.edges), maxExactDomains, findings),
  );
  const spofs = Object.entries(t.components).flatMap(([name, c]) => findSpofs(name, c, t));
  const approximate = components.filter((c) => c.availability.approximate);
  if (approximate.length > 0) {
    findings.push({
      code: 'APPROXIMATE', severity: 'info',
      message: `more than ${maxExactDomains} zones, regions and shared hosts are involved for ${approximate.map((c) => c.name).join(', ')}: ` +
        'their end-to-end availability treats components as independent, which ignores shared zone, region and host outages',
    });
  }
  return {
    components,
    spofs,
    findings,
    approximate: approximate.length > 0,
    conventions: { daysPerYear: DAYS_PER_YEAR, yearMs: YEAR_MS, monthMs: MONTH_MS, weekMs: WEEK_MS, maxExactDomains },
  };
}

function planComponent(
  name: string,
  t: Topology,
  resolved: ResolvedTopology,
  closure: string[],
  maxExactDomains: number,
  findings: PlanFinding[],
): ComponentPlan {
  const c = t.components[name];
  if (!c) throw new Error(`unreachable: component ${name} vanished`);
  const target = tierTarget(name, c.tier, t, findings);
  if (c.members.length === 0) {
    findings.push({
      code: 'NO_MEMBERS', severity: 'error', component: name,
      message: `${name} has no members, so it is never up; give it at least one endpoint or member`,
    });
  }
  const availability = modelAvailability(closure, resolved, maxExactDomains);
  const meetsTarget = target === null ? null : availability.endToEnd >= target.availability - TARGET_EPSILON;
  const recovery = estimateRecovery(c, target);
  if (target && meetsTarget === false) {
    findings.push({
      code: 'BELOW_TARGET', severity: 'warning', component: name,
      message: `${name} can reach ${formatPercent(availability.endToEnd)} end to end, below its ${c.tier} target of ` +
        `${formatPercent(target.availability, percentDigits(target.availability))}`,
    });
  }
  if (recovery.meetsRto === false && recovery.estimatedRecoveryMs !== null && recovery.rtoMs !== null) {
    findings.push({
      code: 'RTO_EXCEEDED', severity: 'warning', component: name,
      message: `${name} needs about ${formatDuration(recovery.estimatedRecoveryMs)} to detect and fail over, ` +
        `longer than its RTO of ${formatDuration(recovery.rtoMs)}; check faster or fail over sooner`,
    });
  }
  return {
    name, kind: c.kind, tier: c.tier ?? null, dependsOn: [...new Set(c.dependsOn)].filter((d) => d in t.components),
    availability, target, meetsTarget, recovery,
    budget: target ? downtimeFor(target.availability) : null,
    expectedDowntime: downtimeFor(availability.endToEnd),
    strategy: target ? recommendStrategy(target) : null,
  };
}

function tierTarget(name: string, tier: string | undefined, t: Topology, findings: PlanFinding[]): TierTarget | null {
  if (tier === undefined) return null;
  const found = t.tiers[tier];
  if (found) return { availability: found.availability, rtoMs: found.rtoMs, rpoMs: found.rpoMs };
  findings.push({
    code: 'UNKNOWN_TIER', severity: 'error', component: name,
    message: `${name} uses tier "${tier}", which is not declared under sla_tiers`,
  });
  return null;
}
