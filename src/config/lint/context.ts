import { readFileSync } from 'node:fs';
import { planTopology, type PlanReport, type Topology } from '../../plan/index.js';
import type { Finding, KeyPath } from '../diagnostics.js';
import type { BulwarkConfig, DatabaseConfig, TierConfig } from '../schema.js';
import { didYouMean } from '../suggest.js';
import { toTopology } from '../topology.js';

/**
 * Facts about the process that runs the check, for the few rules that depend
 * on where they run. Rules stay pure: they never read the process, the entry
 * point gathers the facts (processLintFacts) and passes them in. An absent
 * fact is unknown, and a rule that needs it says nothing.
 */
export interface LintFacts {
  /** The process runs as root (uid 0). */
  root?: boolean;
  /** Reads a file the configuration names (certificates): rules that need the files say nothing without it. */
  readFile?: (path: string) => Buffer;
  /** The time the check runs at (ms), for certificate expiry. */
  now?: number;
}

/** The facts of this process: what `bulwark check` passes to the rules. */
export function processLintFacts(): LintFacts {
  const uid = process.getuid?.();
  return { ...(uid === undefined ? {} : { root: uid === 0 }), readFile: (path) => readFileSync(path), now: Date.now() };
}

/** One lint rule family: pure, reads the parsed configuration (and the facts it needs), returns its findings. */
export type LintRule = (config: BulwarkConfig, facts: LintFacts) => Finding[];

interface Planned {
  topology: Topology;
  plan: PlanReport;
}

const planned = new WeakMap<BulwarkConfig, Planned>();

/** The planner's view of a configuration, computed once per configuration for all rules. */
export function planOf(config: BulwarkConfig): Planned {
  let found = planned.get(config);
  if (!found) {
    const topology = toTopology(config);
    found = { topology, plan: planTopology(topology) };
    planned.set(config, found);
  }
  return found;
}

export type DatabaseKind = 'postgres' | 'redis';

export function databaseKind(db: DatabaseConfig): DatabaseKind {
  return db.postgres ? 'postgres' : 'redis';
}

/** Key path of a component: ['services', name] or ['databases', name]. */
export function componentPath(config: BulwarkConfig, name: string): KeyPath {
  return name in config.services ? ['services', name] : ['databases', name];
}

/** Key path of a component's member list: its endpoints, or its postgres/redis members. */
export function membersPath(config: BulwarkConfig, name: string): KeyPath {
  const db = config.databases[name];
  if (db) return ['databases', name, databaseKind(db), 'members'];
  return ['services', name, 'endpoints'];
}

/** A tier a component is held to, and where it comes from. */
export interface EffectiveTier {
  name: string;
  tier: TierConfig;
  /** Set when a database has no tier of its own and takes the strictest tier of a service that uses it. */
  inheritedFrom?: string;
}

/** Services that depend on `target`, directly or through other services. */
export function dependentsOf(config: BulwarkConfig, target: string): string[] {
  const found = new Set<string>();
  const queue = [target];
  for (let i = 0; i < queue.length; i++) {
    for (const [name, service] of Object.entries(config.services)) {
      if (!found.has(name) && name !== target && service.depends_on.includes(queue[i] ?? '')) {
        found.add(name);
        queue.push(name);
      }
    }
  }
  return [...found];
}

/**
 * The tier a database is held to for `metric`: its own, or else the strictest
 * (smallest rto or rpo) of the services that use it. Undeclared tiers are the
 * references rule's business and are ignored here.
 */
export function databaseTier(config: BulwarkConfig, name: string, metric: 'rto' | 'rpo'): EffectiveTier | undefined {
  const db = config.databases[name];
  if (!db) return undefined;
  if (db.tier !== undefined) {
    const tier = config.sla_tiers[db.tier];
    return tier ? { name: db.tier, tier } : undefined;
  }
  let best: EffectiveTier | undefined;
  for (const service of dependentsOf(config, name)) {
    const tierName = config.services[service]?.tier;
    const tier = tierName === undefined ? undefined : config.sla_tiers[tierName];
    if (tierName === undefined || !tier) continue;
    if (!best || tier[metric] < best.tier[metric]) best = { name: tierName, tier, inheritedFrom: service };
  }
  return best;
}

/** "tier enterprise" or "tier enterprise (inherited from api, which depends on it)". */
export function describeTier(t: EffectiveTier): string {
  return t.inheritedFrom === undefined
    ? `tier ${t.name}`
    : `tier ${t.name} (inherited from ${t.inheritedFrom}, which depends on it)`;
}

const MINUTE_STEPS = [30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1];
const HOUR_STEPS = [12, 8, 6, 4, 3, 2, 1];

/** The least frequent friendly schedule whose runs are at most `maxGapMs` apart. */
export function scheduleWithin(maxGapMs: number): string {
  if (maxGapMs >= 86_400_000) return 'daily at 02:00';
  for (const hours of HOUR_STEPS) if (hours * 3_600_000 <= maxGapMs) return hours === 1 ? 'hourly' : `every ${hours} hours`;
  for (const minutes of MINUTE_STEPS) if (minutes * 60_000 <= maxGapMs) return minutes === 1 ? 'every 1 minute' : `every ${minutes} minutes`;
  return 'every 1 minute';
}

/** A finding for a name that is not declared where it should be, with a did-you-mean hint. */
export function unknownName(
  path: KeyPath,
  value: string,
  what: string,
  section: string,
  candidates: Iterable<string>,
): Finding {
  const names = [...candidates];
  const suggestion = didYouMean(value, names);
  const expected = names.length === 0 ? `a name declared under ${section} (there are none)` : `one of: ${names.slice(0, 12).join(', ')}`;
  return {
    severity: 'error',
    rule: 'lint.unknown_reference',
    path,
    message: `${what} "${value}" is not declared under ${section}`,
    found: value,
    expected,
    hint: suggestion ?? `declare "${value}" under ${section}, or use one of the names that are`,
  };
}
