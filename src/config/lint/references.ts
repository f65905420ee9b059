import { resolveChannelRef } from '../schema-alerting.js';
export { resolveChannelRef };
import type { Finding, KeyPath } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { didYouMean } from '../suggest.js';
import { DRILL_TYPES, type DrillType } from '../schema-drills.js';
import { databaseKind, unknownName, type DatabaseKind } from './context.js';

/**
 * Every name that refers to something declared elsewhere in the file must
 * exist: a typo silently drops a promise (an unknown tier is never checked) or
 * a protection (an unknown channel never pages anyone).
 */
export function lintReferences(config: BulwarkConfig): Finding[] {
  return [
    ...tierAndZoneRefs(config),
    ...dependencyRefs(config),
    ...backupRefs(config),
    ...alertingRefs(config),
    ...componentListRefs(config),
    ...drillRefs(config),
  ];
}

type Check = (path: KeyPath, value: string | undefined) => void;

/** A checker for one section: `what` names the referring key in messages. */
function checker(out: Finding[], what: string, section: string, names: Iterable<string>): Check {
  const known = new Set(names);
  return (path, value) => {
    if (value !== undefined && !known.has(value)) out.push(unknownName(path, value, what, section, known));
  };
}

function tierAndZoneRefs(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  const tier = checker(out, 'tier', 'sla_tiers', Object.keys(config.sla_tiers));
  const zone = checker(out, 'zone', 'zones', Object.keys(config.zones));
  for (const [name, service] of Object.entries(config.services)) {
    tier(['services', name, 'tier'], service.tier);
    service.endpoints.forEach((e, i) => zone(['services', name, 'endpoints', i, 'zone'], e.zone));
    service.failover?.primary_zones?.forEach((z, i) => zone(['services', name, 'failover', 'primary_zones', i], z));
  }
  for (const [name, db] of Object.entries(config.databases)) {
    tier(['databases', name, 'tier'], db.tier);
    const kind = databaseKind(db);
    (db[kind]?.members ?? []).forEach((m, i) => zone(['databases', name, kind, 'members', i, 'zone'], m.zone));
  }
  return out;
}

function dependencyRefs(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  const component = checker(out, 'dependency', 'services or databases', componentNames(config));
  for (const [name, service] of Object.entries(config.services)) {
    service.depends_on.forEach((dep, i) => {
      const path = ['services', name, 'depends_on', i];
      if (dep !== name) return component(path, dep);
      out.push({
        severity: 'error', rule: 'lint.self_dependency', path,
        message: `service ${name} depends on itself, so it can never be up before it is up`,
        found: dep, hint: `remove "${name}" from its own depends_on`,
      });
    });
  }
  return out;
}

function backupRefs(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  const repository = checker(out, 'repository', 'backups.repositories', Object.keys(config.backups?.repositories ?? {}));
  for (const [name, policy] of Object.entries(config.backups?.policies ?? {})) {
    policy.copies.forEach((copy, i) => repository(['backups', 'policies', name, 'copies', i], copy));
    for (const kind of ['postgres', 'redis'] as const) {
      const source = policy.source[kind];
      if (source !== undefined) out.push(...sourceRef(config, ['backups', 'policies', name, 'source', kind], kind, source));
    }
  }
  return out;
}

/** A backup source names a database of the same engine. */
function sourceRef(config: BulwarkConfig, path: KeyPath, kind: DatabaseKind, source: string): Finding[] {
  const db = config.databases[source];
  const sameKind = Object.entries(config.databases).filter(([, d]) => databaseKind(d) === kind).map(([n]) => n);
  if (!db) return [unknownName(path, source, `${kind} database`, 'databases', sameKind)];
  const actual = databaseKind(db);
  if (actual === kind) return [];
  return [{
    severity: 'error', rule: 'lint.source_kind_mismatch', path,
    message: `backup source ${kind}: ${source} names a ${actual} database; a ${kind} backup of it cannot run`,
    found: `${source} (${actual})`, expected: `a ${kind} database${sameKind.length ? `: ${sameKind.join(', ')}` : ''}`,
    hint: `write source: { ${actual}: ${source} }`,
  }];
}

function alertingRefs(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  const alerting = config.alerting;
  const channel = checker(out, 'channel', 'alerting.channels', Object.keys(alerting?.channels ?? {}));
  const escalation = checker(out, 'escalation policy', 'alerting.escalation_policies', Object.keys(alerting?.escalation_policies ?? {}));
  const template = checker(out, 'template', 'communication_templates', Object.keys(config.communication_templates));
  const component = checker(out, 'service', 'services or databases', componentNames(config));
  for (const [name, rule] of Object.entries(alerting?.rules ?? {})) {
    const path = ['alerting', 'rules', name];
    escalation([...path, 'escalation'], rule.escalation);
    template([...path, 'template'], rule.template);
    template([...path, 'resolution_template'], rule.resolution_template);
    rule.services?.forEach((s, i) => component([...path, 'services', i], s));
  }
  rulesAndPeopleRefs(config, channel, component, checker(out, 'person', 'alerting.people', Object.keys(alerting?.people ?? {})));
  for (const [i, entry] of (alerting?.notification_channels ?? []).entries()) {
    if (resolveChannelRef(alerting?.channels ?? {}, entry.channel) === undefined) {
      out.push({
        severity: 'error', rule: 'lint.unknown_reference', path: ['alerting', 'notification_channels', i, entry.channel],
        message: `notification_channels names "${entry.channel}", which is neither a channel in alerting.channels nor the type of exactly one of them`,
        found: entry.channel, expected: `a channel name or type: ${[...Object.keys(alerting?.channels ?? {}), 'webhook', 'email', 'slack', 'pagerduty', 'http'].join(', ')}`,
        hint: 'define the channel under alerting.channels, for example pagerduty: { pagerduty: { routing_key: "${env:PAGERDUTY_KEY}" } }',
      });
    }
  }
  for (const [name, t] of Object.entries(config.communication_templates)) {
    t.channels?.forEach((c, i) => channel(['communication_templates', name, 'channels', i], c));
  }
  return out;
}

function rulesAndPeopleRefs(config: BulwarkConfig, channel: Check, component: Check, person: Check): void {
  const alerting = config.alerting;
  for (const [name, person] of Object.entries(alerting?.people ?? {})) {
    person.channels.forEach((c, i) => channel(['alerting', 'people', name, 'channels', i], c));
  }
  for (const [name, schedule] of Object.entries(alerting?.schedules ?? {})) {
    schedule.people.forEach((p, i) => person(['alerting', 'schedules', name, 'people', i], p));
    schedule.overrides.forEach((o, i) => person(['alerting', 'schedules', name, 'overrides', i, 'person'], o.person));
  }
  for (const [name, rule] of Object.entries(alerting?.rules ?? {})) {
    rule.databases?.forEach((d, i) => component(['alerting', 'rules', name, 'databases', i], d));
  }
}

function componentListRefs(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  const component = checker(out, 'service', 'services or databases', componentNames(config));
  config.status_page?.services?.forEach((s, i) => component(['status_page', 'services', i], s));
  for (const [group, list] of Object.entries(config.status_page?.groups ?? {})) list.forEach((s, i) => component(['status_page', 'groups', group, i], s));
  config.maintenance_windows.forEach((w, i) => w.services.forEach((s, j) => component(['maintenance_windows', i, 'services', j], s)));
  return out;
}

type DrillTarget = 'policy' | 'database' | 'service' | 'zone';
const REQUIRED: Record<DrillType, DrillTarget[]> = {
  // Without a policy, a restoration drill restores every policy.
  backup_restoration: [],
  database_failover: ['database'],
  endpoint_failure: ['service'],
  zone_failure: ['service', 'zone'],
  zone: ['service', 'zone'],
  latency_injection: [],
  failover_testing: [],
  full_dr_exercise: [],
  experiment: [],
};

function drillRefs(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  const targets: Record<DrillTarget, Check> = {
    policy: checker(out, 'backup policy', 'backups.policies', Object.keys(config.backups?.policies ?? {})),
    database: checker(out, 'database', 'databases', Object.keys(config.databases)),
    service: checker(out, 'service', 'services', Object.keys(config.services)),
    zone: checker(out, 'zone', 'zones', Object.keys(config.zones)),
  };
  const tierRef = checker(out, 'tier', 'sla_tiers', Object.keys(config.sla_tiers));
  const windowRef = checker(out, 'maintenance window', 'maintenance_windows', config.maintenance_windows.map((w) => w.name));
  for (const [name, drill] of Object.entries(config.dr_testing)) {
    for (const key of ['policy', 'database', 'service', 'zone'] as const) targets[key](['dr_testing', name, key], drill[key]);
    tierRef(['dr_testing', name, 'tier'], drill.tier);
    drill.experiment?.steady_state.forEach((p, i) => { if (p.probe === 'http') targets.service(['dr_testing', name, 'experiment', 'steady_state', i, 'service'], p.service); });
    for (const list of ['method', 'rollbacks'] as const) {
      drill.experiment?.[list].forEach((a, i) => { if (a.action === 'disable') targets.service(['dr_testing', name, 'experiment', list, i, 'service'], a.service); });
    }
    windowRef(['dr_testing', name, 'maintenance_window'], drill.maintenance_window);
    const type = drill.type ?? (DRILL_TYPES as readonly string[]).find((t) => t === name) as DrillType | undefined;
    if (type === undefined) {
      out.push({
        severity: 'error', rule: 'lint.unknown_drill_type', path: ['dr_testing', name],
        message: `drill "${name}" has no type: and its name is not a drill type, so bulwark does not know what to break`,
        found: name, expected: `one of: ${DRILL_TYPES.join(', ')}`,
        hint: `add type: ${guessDrillType(name, drill)} to the drill, or rename it to its type`,
      });
      continue;
    }
    for (const key of REQUIRED[type]) if (drill[key] === undefined) out.push(missingTarget(config, name, type, key));
  }
  return out;
}

/** The likely type of an untyped drill: a name close to a type, else what its targets suggest. */
function guessDrillType(name: string, drill: Partial<Record<DrillTarget, string>>): string {
  const close = DRILL_TYPES.find((t) => didYouMean(name, [t]) !== undefined);
  if (close) return close;
  if (drill.policy !== undefined) return 'backup_restoration';
  if (drill.database !== undefined) return 'database_failover';
  if (drill.zone !== undefined) return 'zone_failure';
  return drill.service !== undefined ? 'endpoint_failure' : `<${DRILL_TYPES.join(' | ')}>`;
}

function missingTarget(config: BulwarkConfig, drill: string, type: DrillType, key: DrillTarget): Finding {
  const section = { policy: 'backups.policies', database: 'databases', service: 'services', zone: 'zones' }[key];
  const names = Object.keys({ policy: config.backups?.policies ?? {}, database: config.databases, service: config.services, zone: config.zones }[key]);
  return {
    severity: 'error', rule: 'lint.drill_missing_target', path: ['dr_testing', drill],
    message: `${type} drill "${drill}" does not say which ${key} to test, so it cannot run`,
    expected: `${key}: one of the names under ${section}${names.length ? ` (${names.slice(0, 8).join(', ')})` : ''}`,
    hint: `add ${key}: ${names[0] ?? '<name>'} to the drill`,
  };
}

function componentNames(config: BulwarkConfig): string[] {
  return [...Object.keys(config.services), ...Object.keys(config.databases)];
}
