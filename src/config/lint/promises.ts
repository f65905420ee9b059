import { findCycles, formatDuration, formatPercent, percentDigits, type ComponentPlan, type SpofScope } from '../../plan/index.js';
import type { Finding } from '../diagnostics.js';
import { longestGapMs } from '../schedule.js';
import type { BulwarkConfig } from '../schema.js';
import { serviceCheckTimings } from '../topology.js';
import { formatDurationShort } from '../../core/units.js';
import { componentPath, databaseKind, databaseTier, describeTier, planOf, scheduleWithin, type EffectiveTier } from './context.js';

type Policy = NonNullable<BulwarkConfig['backups']>['policies'][string];

/** The tier's RPO against the backups that are supposed to keep it. */
export function lintRpo(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  const policies = Object.entries(config.backups?.policies ?? {});
  for (const [name, db] of Object.entries(config.databases)) {
    const tier = databaseTier(config, name, 'rpo');
    if (!tier) continue;
    const own = policies.filter(([, p]) => p.source.postgres === name || p.source.redis === name);
    if (own.length === 0) out.push(noBackup(name, databaseKind(db), tier));
    else out.push(...scheduleTooSparse(name, own, tier));
  }
  for (const [name, policy] of policies) {
    if (!policy.wal_archiving || policy.source.postgres !== undefined) continue;
    const source = policy.source.redis !== undefined ? `redis database ${policy.source.redis}` : 'a file or stdin source';
    out.push({
      severity: 'error', rule: 'lint.wal_archiving_unsupported', path: ['backups', 'policies', name, 'wal_archiving'],
      message: `wal_archiving is a PostgreSQL feature, but policy ${name} backs up ${source}: no write-ahead log will be archived, so it does not shorten the RPO`,
      found: 'wal_archiving: true',
      hint: 'remove wal_archiving and schedule the policy at least as often as the RPO requires',
    });
  }
  return out;
}

function noBackup(name: string, kind: 'postgres' | 'redis', tier: EffectiveTier): Finding {
  const rpo = formatDurationShort(tier.tier.rpo);
  const every = scheduleWithin(tier.tier.rpo);
  const extra = kind === 'postgres' ? ', wal_archiving: true' : '';
  return {
    severity: 'error', rule: 'lint.rpo_without_backup',
    path: tier.inheritedFrom === undefined ? ['databases', name, 'tier'] : ['databases', name],
    message: `database ${name} is held to ${describeTier(tier)}, which promises an RPO of ${rpo}, but no backup policy backs it up: ` +
      'losing it loses all its data',
    hint: `add under backups.policies: ${name}: { source: { ${kind}: ${name} }, schedule: "${every}"${extra}, copies: [<repository>] }`,
  };
}

/** Flags the densest policy of a database when none of its policies keeps the RPO. */
function scheduleTooSparse(db: string, policies: Array<[string, Policy]>, tier: EffectiveTier): Finding[] {
  const rpoMs = tier.tier.rpo;
  let best: { name: string; policy: Policy; gap: number } | undefined;
  for (const [name, policy] of policies) {
    if (policy.wal_archiving && policy.source.postgres !== undefined) return [];
    const gap = longestGapMs(policy.schedule);
    if (gap <= rpoMs) return [];
    if (!best || gap < best.gap) best = { name, policy, gap };
  }
  if (!best) return [];
  const every = scheduleWithin(rpoMs);
  const rpo = formatDurationShort(rpoMs);
  const gap = Number.isFinite(best.gap) ? formatDurationShort(best.gap) : 'forever';
  const fix = best.policy.source.postgres !== undefined
    ? `set wal_archiving: true (continuous WAL archiving keeps the RPO between runs), or schedule it at least every ${rpo} ("${every}")`
    : `schedule it at least every ${rpo} ("${every}")`;
  return [{
    severity: 'error', rule: 'lint.schedule_exceeds_rpo', path: ['backups', 'policies', best.name, 'schedule'],
    message: `policy ${best.name} runs "${best.policy.schedule.text}", up to ${gap} apart, but ${db} is held to ${describeTier(tier)} ` +
      `with an RPO of ${rpo}: a failure just before a run loses up to ${gap} of writes`,
    found: `longest gap ${gap}`, expected: `at most ${rpo} between backups`,
    hint: fix,
  }];
}

/** The time to notice a dead member and switch, against the tier's RTO. */
export function lintRto(config: BulwarkConfig): Finding[] {
  const { topology } = planOf(config);
  const out: Finding[] = [];
  for (const [name, c] of Object.entries(topology.components)) {
    if (c.detectionMs === undefined) continue;
    const tier = rtoTier(config, name);
    const recoveryMs = c.detectionMs + (c.failoverMs ?? 0);
    if (!tier || recoveryMs <= tier.tier.rto) continue;
    const figures = `about ${formatDuration(recoveryMs)} to detect a dead member and fail over, longer than the RTO of ` +
      `${formatDuration(tier.tier.rto)} promised by ${describeTier(tier)}`;
    const service = config.services[name];
    if (service) {
      const check = serviceCheckTimings(service);
      out.push({
        severity: 'error', rule: 'lint.rto_below_recovery',
        path: service.health_check ? ['services', name, 'health_check'] : ['services', name, 'tier'],
        message: `service ${name} needs ${figures}`,
        found: `interval ${formatDurationShort(check.interval)} × fall ${check.fall} + timeout ${formatDurationShort(check.timeout)}`,
        hint: 'detection is interval × fall + timeout: lower health_check interval, fall or timeout',
      });
      continue;
    }
    const pg = config.databases[name]?.postgres;
    out.push({
      severity: 'error', rule: 'lint.rto_below_recovery', path: ['databases', name, 'postgres', 'ttl'],
      message: `database ${name} needs ${figures}`,
      found: pg ? `ttl ${formatDurationShort(pg.ttl)} + loop_wait ${formatDurationShort(pg.loop_wait)} + about ${formatDuration(c.failoverMs ?? 0)} to promote` : undefined,
      hint: 'detection is ttl + loop_wait: lower postgres ttl or loop_wait (keeping loop_wait + 2 × retry_timeout ≤ ttl)',
    });
  }
  return out;
}

function rtoTier(config: BulwarkConfig, name: string): EffectiveTier | undefined {
  if (name in config.databases) return databaseTier(config, name, 'rto');
  const tierName = config.services[name]?.tier;
  const tier = tierName === undefined ? undefined : config.sla_tiers[tierName];
  return tierName !== undefined && tier ? { name: tierName, tier } : undefined;
}

/** The availability the topology can reach, against the tier's promise. */
export function lintAvailability(config: BulwarkConfig): Finding[] {
  const { plan } = planOf(config);
  const byName = new Map(plan.components.map((c) => [c.name, c]));
  const out: Finding[] = [];
  for (const c of plan.components) {
    if (c.meetsTarget !== false || !c.target) continue;
    const target = formatPercent(c.target.availability, percentDigits(c.target.availability));
    out.push({
      severity: 'error', rule: 'lint.availability_unreachable', path: [...componentPath(config, c.name), 'tier'],
      message: `${c.name} promises ${target} availability (tier ${c.tier}), but its topology can reach at most ` +
        `${formatPercent(c.availability.endToEnd)} end to end; ${mainReason(c, byName, plan.spofs)}`,
      found: formatPercent(c.availability.endToEnd), expected: `at least ${target}`,
      hint: 'remove the single points of failure, add members in other zones or regions, or promise a lower tier',
    });
  }
  return out;
}

function mainReason(c: ComponentPlan, byName: Map<string, ComponentPlan>, spofs: ReturnType<typeof planOf>['plan']['spofs']): string {
  const closure = [c.name];
  for (let i = 0; i < closure.length; i++) {
    for (const dep of byName.get(closure[i] ?? '')?.dependsOn ?? []) if (!closure.includes(dep)) closure.push(dep);
  }
  const found = spofs.filter((s) => closure.includes(s.component));
  if (found.length > 0) {
    const list = found.map((s) => `${s.component} (${spofPlace(s.scope, s.domain)})`);
    return `single points of failure: ${[...new Set(list)].join(', ')}`;
  }
  const weakest = closure.map((n) => byName.get(n)).filter((p): p is ComponentPlan => p !== undefined)
    .sort((a, b) => a.availability.own - b.availability.own)[0];
  return weakest ? `the weakest link is ${weakest.name} at ${formatPercent(weakest.availability.own)} on its own` : 'its members are not available enough';
}

function spofPlace(scope: SpofScope, domain: string): string {
  if (scope === 'member') return `only member ${domain}`;
  return scope === 'host' ? `all on host ${domain}` : `all in ${scope} ${domain}`;
}

/** depends_on cycles: the planner counts each member once, but nothing in the cycle can start first. */
export function lintCycles(config: BulwarkConfig): Finding[] {
  const edges = new Map<string, string[]>();
  for (const [name, service] of Object.entries(config.services)) {
    edges.set(name, service.depends_on.filter((d) => d !== name && d in config.services));
  }
  return findCycles(edges).map((cycle) => {
    const [first = '', second = ''] = cycle;
    const index = config.services[first]?.depends_on.indexOf(second) ?? -1;
    return {
      severity: 'error' as const, rule: 'lint.dependency_cycle',
      path: index >= 0 ? ['services', first, 'depends_on', index] : ['services', first, 'depends_on'],
      message: `depends_on forms a cycle: ${[...cycle, first].join(' → ')}; each needs the others up first, so availability and ` +
        'start-up order are undefined',
      hint: 'remove one dependency of the cycle (usually the one pointing back at a caller)',
    };
  });
}
