import { longestGapMs, type AlertCondition, type AlertRuleConfig, type AlertSeverity as Severity, type BulwarkConfig } from '../config/index.js';
import { WORKBOOK_BURN_RATE_ALERTS, type BurnRateAlertSpec } from './burn-rate.js';

/**
 * The alert rules in effect: the user's `alerting.rules` when the key is there
 * (even empty: then exactly none), else rules that follow from the tiers and the
 * topology. Every rule comes out in one shape, with its subjects listed and its
 * thresholds worked out, so the evaluator and `bulwark plan` read no config.
 */

export type RuleOrigin = 'configured' | 'default';
export type RuleGroupBy = 'zone' | 'service' | null;

export interface RuleSubjects {
  services: string[];
  databases: string[];
  /** Backup policies. */
  policies: string[];
  zones: string[];
  regions: string[];
}

export interface RuleThresholds {
  /** error_budget_burn: the workbook rows (any of them) that fire the rule. */
  burnRates?: readonly BurnRateAlertSpec[];
  /** error_budget_burn: the availability target per subject (`service/api`, `database/main-db`). */
  availability?: Record<string, number>;
  /** backup_stale: how old the newest good backup may be, per policy. */
  maxAgeMs?: Record<string, number>;
  /** replication_lag: bytes a standby may be behind, per database. */
  maxLagBytes?: Record<string, number>;
  /** wal_archive_lag: how long WAL may wait to be archived, per policy. */
  maxLagMs?: Record<string, number>;
  /** certificate_expiring: warn this long before a certificate ends. */
  withinMs?: number;
  /** metric: the metric, its labels and the bounds. */
  metric?: string;
  labels?: Record<string, string>;
  above?: number;
  below?: number;
}

export interface ResolvedRule {
  /** The config's key, or `api:service_down`-style for a default rule. */
  name: string;
  when: AlertCondition;
  severity: Severity;
  forMs: number;
  /** The escalation policy: the rule's, the severity's (`severity_policies`), one named like the severity, or none. */
  policy: string | null;
  subjects: RuleSubjects;
  thresholds: RuleThresholds;
  groupBy: RuleGroupBy;
  /** One-shot events (a failover happened) fire once and clear by themselves. */
  oneShot: boolean;
  template: string | null;
  resolutionTemplate: string | null;
  origin: RuleOrigin;
}

type Owner = { kind: 'service' | 'database'; name: string };
type Policy = NonNullable<BulwarkConfig['backups']>['policies'][string];

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** What the SLO reporter measures an untiered owner against. */
const UNTIERED_AVAILABILITY = 0.999;
const DEFAULT_CERTIFICATE_WITHIN_MS = 14 * DAY_MS;
/** WAL archive lag for a policy whose database has no tier (so no RPO). */
const UNTIERED_WAL_LAG_MS = 5 * MINUTE_MS;
/** A replica behind for a moment under a burst of writes is normal; behind for a minute is not. */
const REPLICATION_LAG_FOR_MS = MINUTE_MS;
/** A standby re-pointing at a new primary leaves none synchronous for a loop or two (config's DEFAULT_DEGRADE_AFTER_MS). */
const NO_SYNC_STANDBY_FOR_MS = 5_000;

const PAGE_ROWS = WORKBOOK_BURN_RATE_ALERTS.filter((s) => s.action === 'page');
const TICKET_ROWS = WORKBOOK_BURN_RATE_ALERTS.filter((s) => s.action === 'ticket');

const NO_SUBJECTS: RuleSubjects = { services: [], databases: [], policies: [], zones: [], regions: [] };

export function effectiveRules(config: BulwarkConfig): ResolvedRule[] {
  const configured = config.alerting?.rules;
  if (configured !== undefined) return Object.entries(configured).map(([name, rule]) => resolveConfiguredRule(config, name, rule));
  return defaultRules(config);
}

/** The rule's own policy, else `severity_policies[severity]`, else a policy named like the severity, else none. */
export function escalationPolicyFor(config: BulwarkConfig, severity: Severity, explicit?: string): string | null {
  if (explicit !== undefined) return explicit;
  const alerting = config.alerting;
  const bySeverity = alerting?.severity_policies[severity];
  if (bySeverity !== undefined) return bySeverity;
  return alerting !== undefined && Object.hasOwn(alerting.escalation_policies, severity) ? severity : null;
}

// --- the tier of what a policy or owner protects ------------------------------

function ownerTier(config: BulwarkConfig, owner: Owner) {
  const tierName = owner.kind === 'service' ? config.services[owner.name]?.tier : config.databases[owner.name]?.tier;
  return tierName === undefined ? undefined : config.sla_tiers[tierName];
}

function availabilityOf(config: BulwarkConfig, owner: Owner): number {
  return ownerTier(config, owner)?.availability ?? UNTIERED_AVAILABILITY;
}

/** The database a policy backs up; null for files and stdin. */
function policyDatabase(policy: Policy): string | null {
  return policy.source.postgres ?? policy.source.redis ?? null;
}

function policyRpoMs(config: BulwarkConfig, policy: Policy): number | null {
  const database = policyDatabase(policy);
  if (database === null) return null;
  return ownerTier(config, { kind: 'database', name: database })?.rpo ?? null;
}

/**
 * How old a policy's newest backup may be. The tier's RPO, unless WAL archiving
 * carries the recovery point (then the base backup only has to keep to its
 * schedule) or nothing tiered is backed up: then one run may be missed, not two.
 */
function policyMaxAgeMs(config: BulwarkConfig, policy: Policy): { ms: number; fromRpo: boolean } {
  const rpo = policyRpoMs(config, policy);
  if (rpo !== null && !policy.wal_archiving) return { ms: rpo, fromRpo: true };
  return { ms: 2 * longestGapMs(policy.schedule), fromRpo: false };
}

// --- configured rules ----------------------------------------------------------

const OWNER_CONDITIONS: Partial<Record<AlertCondition, Array<Owner['kind']>>> = {
  service_down: ['service'],
  endpoint_down: ['service', 'database'],
  certificate_expiring: ['service'],
  error_budget_burn: ['service', 'database'],
  database_down: ['database'],
  replication_lag: ['database'],
  no_sync_standby: ['database'],
  failover: ['database'],
};
const POLICY_CONDITIONS: readonly AlertCondition[] = ['backup_failed', 'backup_stale', 'verify_failed', 'wal_archive_lag'];
const POSTGRES_CONDITIONS: readonly AlertCondition[] = ['replication_lag', 'no_sync_standby', 'failover'];

function isPostgres(config: BulwarkConfig, database: string): boolean {
  return config.databases[database]?.postgres !== undefined;
}

/** Named ones when the rule names any; else every owner of the kinds the condition is about. */
function configuredOwners(config: BulwarkConfig, rule: AlertRuleConfig): { services: string[]; databases: string[] } {
  const kinds = OWNER_CONDITIONS[rule.when] ?? [];
  const named = rule.services !== undefined || rule.databases !== undefined;
  const implicitOnlyTiered = rule.when === 'error_budget_burn';
  const pick = (kind: Owner['kind'], listed: string[] | undefined, all: string[]): string[] => {
    if (!kinds.includes(kind)) return [];
    if (named) return listed ?? [];
    return implicitOnlyTiered ? all.filter((name) => ownerTier(config, { kind, name }) !== undefined) : all;
  };
  let databases = pick('database', rule.databases, Object.keys(config.databases));
  if (POSTGRES_CONDITIONS.includes(rule.when)) databases = databases.filter((d) => isPostgres(config, d));
  return { services: pick('service', rule.services, Object.keys(config.services)), databases };
}

/** Every policy the condition applies to, narrowed to those backing up the named databases. */
function configuredPolicies(config: BulwarkConfig, rule: AlertRuleConfig): string[] {
  if (!POLICY_CONDITIONS.includes(rule.when)) return [];
  return Object.entries(config.backups?.policies ?? {})
    .filter(([, p]) => rule.when !== 'verify_failed' || p.verify !== undefined)
    .filter(([, p]) => rule.when !== 'wal_archive_lag' || p.wal_archiving)
    .filter(([, p]) => rule.databases === undefined || rule.databases.includes(policyDatabase(p) ?? ''))
    .map(([name]) => name);
}

function configuredSubjects(config: BulwarkConfig, rule: AlertRuleConfig): RuleSubjects {
  return {
    ...configuredOwners(config, rule),
    policies: configuredPolicies(config, rule),
    zones: rule.when === 'zone_down' ? Object.keys(config.zones) : [],
    regions: rule.when === 'region_down' ? Object.keys(config.regions) : [],
  };
}

function perSubject<T>(names: readonly string[], value: (name: string) => T): Record<string, T> {
  return Object.fromEntries(names.map((name) => [name, value(name)]));
}

function ownerAvailability(config: BulwarkConfig, subjects: RuleSubjects): Record<string, number> {
  return {
    ...Object.fromEntries(subjects.services.map((name) => [`service/${name}`, availabilityOf(config, { kind: 'service', name })])),
    ...Object.fromEntries(subjects.databases.map((name) => [`database/${name}`, availabilityOf(config, { kind: 'database', name })])),
  };
}

/**
 * A configured `error_budget_burn` that pages (critical) fires on the workbook's
 * page rows; a lower one on its ticket row, so a warning rule does not go off
 * at the first fast burn nor a critical one wake somebody for a slow one.
 * `max_lag` is a size or a duration and the parsed number no longer says which:
 * it is bytes for replication lag and milliseconds for WAL archive lag.
 */
function configuredThresholds(config: BulwarkConfig, rule: AlertRuleConfig, subjects: RuleSubjects): RuleThresholds {
  const policy = (name: string): Policy => config.backups!.policies[name]!;
  switch (rule.when) {
    case 'error_budget_burn':
      return { burnRates: rule.severity === 'critical' ? PAGE_ROWS : TICKET_ROWS, availability: ownerAvailability(config, subjects) };
    case 'backup_stale':
      return { maxAgeMs: perSubject(subjects.policies, (p) => policyMaxAgeMs(config, policy(p)).ms) };
    case 'replication_lag':
      return { maxLagBytes: perSubject(subjects.databases, (d) => rule.max_lag ?? databaseMaxLagBytes(config, d)) };
    case 'wal_archive_lag':
      return { maxLagMs: perSubject(subjects.policies, (p) => rule.max_lag ?? walLagMs(config, policy(p))) };
    case 'certificate_expiring':
      return { withinMs: rule.within ?? DEFAULT_CERTIFICATE_WITHIN_MS };
    case 'metric':
      return { metric: rule.metric, labels: rule.labels, above: rule.above, below: rule.below };
    default:
      return {};
  }
}

function groupByFor(when: AlertCondition): RuleGroupBy {
  if (when === 'endpoint_down') return 'zone';
  if (when === 'error_budget_burn') return 'service';
  return null;
}

function resolveConfiguredRule(config: BulwarkConfig, name: string, rule: AlertRuleConfig): ResolvedRule {
  const subjects = configuredSubjects(config, rule);
  return {
    name,
    when: rule.when,
    severity: rule.severity,
    forMs: rule.for,
    policy: escalationPolicyFor(config, rule.severity, rule.escalation),
    subjects,
    thresholds: configuredThresholds(config, rule, subjects),
    groupBy: groupByFor(rule.when),
    oneShot: rule.when === 'failover',
    template: rule.template ?? null,
    resolutionTemplate: rule.resolution_template ?? null,
    origin: 'configured',
  };
}

// --- default rules ---------------------------------------------------------------

interface DefaultRuleInput {
  name: string;
  when: AlertCondition;
  severity: Severity;
  subjects: Partial<RuleSubjects>;
  thresholds?: RuleThresholds;
  forMs?: number;
}

function defaultRule(config: BulwarkConfig, input: DefaultRuleInput): ResolvedRule {
  return {
    name: input.name,
    when: input.when,
    severity: input.severity,
    forMs: input.forMs ?? 0,
    policy: escalationPolicyFor(config, input.severity),
    subjects: { ...NO_SUBJECTS, ...input.subjects },
    thresholds: input.thresholds ?? {},
    groupBy: groupByFor(input.when),
    oneShot: input.when === 'failover',
    template: null,
    resolutionTemplate: null,
    origin: 'default',
  };
}

function defaultRules(config: BulwarkConfig): ResolvedRule[] {
  const owners: Owner[] = [
    ...Object.keys(config.services).map((name) => ({ kind: 'service' as const, name })),
    ...Object.keys(config.databases).map((name) => ({ kind: 'database' as const, name })),
  ];
  return [
    ...owners.flatMap((owner) => ownerRules(config, owner)),
    ...topologyRules(config),
    ...Object.keys(config.databases).flatMap((name) => postgresRules(config, name)),
    ...Object.entries(config.backups?.policies ?? {}).flatMap(([name, policy]) => backupRules(config, name, policy)),
    ...agentRules(config),
  ];
}

/** `api:service_down`; `service/x:…` and `database/x:…` when a service and a database share the name x. */
function ownerRuleName(config: BulwarkConfig, owner: Owner, suffix: string): string {
  const shared = Object.hasOwn(config.services, owner.name) && Object.hasOwn(config.databases, owner.name);
  return `${shared ? `${owner.kind}/` : ''}${owner.name}:${suffix}`;
}

function endpointCount(config: BulwarkConfig, owner: Owner): number {
  if (owner.kind === 'service') return config.services[owner.name]?.endpoints.length ?? 0;
  const db = config.databases[owner.name];
  return db?.postgres?.members.length ?? db?.redis?.members.length ?? 0;
}

/**
 * Down (critical for a tiered owner: its promise is broken; a warning otherwise),
 * both burn rates for a tiered one, and one endpoint down, grouped per zone, when
 * there are several (with one, it is the owner down); a service that terminates
 * TLS warns 14 days before a certificate ends.
 */
function ownerRules(config: BulwarkConfig, owner: Owner): ResolvedRule[] {
  const tier = ownerTier(config, owner);
  const when: AlertCondition = owner.kind === 'service' ? 'service_down' : 'database_down';
  const subjects = owner.kind === 'service' ? { services: [owner.name] } : { databases: [owner.name] };
  const name = (suffix: string): string => ownerRuleName(config, owner, suffix);
  const rules = [defaultRule(config, { name: name(when), when, severity: tier ? 'critical' : 'warning', subjects })];
  if (tier) {
    const availability = { [`${owner.kind}/${owner.name}`]: tier.availability };
    rules.push(
      defaultRule(config, { name: name('error_budget_burn:fast'), when: 'error_budget_burn', severity: 'critical', subjects, thresholds: { burnRates: PAGE_ROWS, availability } }),
      defaultRule(config, { name: name('error_budget_burn:slow'), when: 'error_budget_burn', severity: 'warning', subjects, thresholds: { burnRates: TICKET_ROWS, availability } }),
    );
  }
  if (endpointCount(config, owner) > 1) rules.push(defaultRule(config, { name: name('endpoint_down'), when: 'endpoint_down', severity: 'warning', subjects }));
  if (owner.kind === 'service' && config.services[owner.name]?.tls) {
    rules.push(defaultRule(config, { name: name('certificate_expiring'), when: 'certificate_expiring', severity: 'warning', subjects, thresholds: { withinMs: DEFAULT_CERTIFICATE_WITHIN_MS } }));
  }
  return rules;
}

function topologyRules(config: BulwarkConfig): ResolvedRule[] {
  const zones = Object.keys(config.zones);
  const regions = Object.keys(config.regions);
  const rules: ResolvedRule[] = [];
  if (zones.length > 0) rules.push(defaultRule(config, { name: 'zone_down', when: 'zone_down', severity: 'critical', subjects: { zones } }));
  if (regions.length > 0) rules.push(defaultRule(config, { name: 'region_down', when: 'region_down', severity: 'critical', subjects: { regions } }));
  return rules;
}

/** A standby more behind than it may be when promoted can no longer take over without loss. */
function databaseMaxLagBytes(config: BulwarkConfig, database: string): number {
  const db = config.databases[database];
  return db?.health_check?.max_lag ?? db?.postgres?.maximum_lag_on_failover ?? 0;
}

/** With WAL archiving the archive lag is the recovery point: it may reach the tier's RPO. */
function walLagMs(config: BulwarkConfig, policy: Policy): number {
  return policyRpoMs(config, policy) ?? UNTIERED_WAL_LAG_MS;
}

/** Failover, synchronous standby and lag: PostgreSQL under the HA loop, which needs etcd. */
function postgresRules(config: BulwarkConfig, database: string): ResolvedRule[] {
  const pg = config.databases[database]?.postgres;
  if (pg === undefined || config.coordination?.etcd === undefined) return [];
  const owner: Owner = { kind: 'database', name: database };
  const subjects = { databases: [database] };
  const rules = [defaultRule(config, { name: ownerRuleName(config, owner, 'failover'), when: 'failover', severity: 'warning', subjects })];
  if (pg.synchronous !== false) {
    const forMs = typeof pg.synchronous === 'object' ? Math.max(pg.synchronous.degrade_after, NO_SYNC_STANDBY_FOR_MS) : NO_SYNC_STANDBY_FOR_MS;
    rules.push(defaultRule(config, { name: ownerRuleName(config, owner, 'no_sync_standby'), when: 'no_sync_standby', severity: 'critical', subjects, forMs }));
  }
  if (pg.members.length > 1) {
    rules.push(defaultRule(config, {
      name: ownerRuleName(config, owner, 'replication_lag'), when: 'replication_lag', severity: 'warning', subjects,
      thresholds: { maxLagBytes: { [database]: databaseMaxLagBytes(config, database) } }, forMs: REPLICATION_LAG_FOR_MS,
    }));
  }
  return rules;
}

function backupRules(config: BulwarkConfig, name: string, policy: Policy): ResolvedRule[] {
  const subjects = { policies: [name] };
  const maxAge = policyMaxAgeMs(config, policy);
  const rules = [
    defaultRule(config, { name: `${name}:backup_failed`, when: 'backup_failed', severity: 'warning', subjects }),
    defaultRule(config, {
      name: `${name}:backup_stale`, when: 'backup_stale', severity: maxAge.fromRpo ? 'critical' : 'warning', subjects,
      thresholds: { maxAgeMs: { [name]: maxAge.ms } },
    }),
  ];
  if (policy.verify !== undefined) rules.push(defaultRule(config, { name: `${name}:verify_failed`, when: 'verify_failed', severity: 'warning', subjects }));
  if (policy.wal_archiving) {
    const rpo = policyRpoMs(config, policy);
    rules.push(defaultRule(config, {
      name: `${name}:wal_archive_lag`, when: 'wal_archive_lag', severity: rpo === null ? 'warning' : 'critical', subjects,
      thresholds: { maxLagMs: { [name]: walLagMs(config, policy) } },
    }));
  }
  return rules;
}

/** Agents exist to give a check more than one vantage point: a quorum above 1 needs them. */
function agentRules(config: BulwarkConfig): ResolvedRule[] {
  const quorums = [
    ...Object.values(config.services).map((s) => s.health_check?.quorum ?? 1),
    ...Object.values(config.databases).map((d) => d.health_check?.quorum ?? 1),
  ];
  if (!quorums.some((q) => q > 1)) return [];
  return [defaultRule(config, { name: 'agent_silent', when: 'agent_silent', severity: 'warning', subjects: {} })];
}
