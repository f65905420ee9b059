import type { Finding, KeyPath } from '../diagnostics.js';
import type { BulwarkConfig } from '../schema.js';
import { SEVERITIES, resolveChannelRef, type AlertSeverity as Severity } from '../schema-alerting.js';
import { suggest } from '../suggest.js';
import { TEMPLATE_VARIABLES, isTemplateVariable, templateSyntaxErrors, templateVariables } from '../template-vars.js';
import { unknownName } from './context.js';

/**
 * Alerting that cannot reach anyone fails silently on the worst day: a typo in
 * a template goes out to customers verbatim, an escalation level naming nobody
 * pages nobody. These are checked before the daemon runs.
 */
export function lintAlerting(config: BulwarkConfig): Finding[] {
  return [
    ...templateFindings(config),
    ...escalationTargetFindings(config),
    ...severityPolicyFindings(config),
    ...unreachableSeverityFindings(config),
    ...unwatchedConditionFindings(config),
  ];
}

/** Conditions a rule may name that nothing raises yet (the sources in src/alerting/sources say why). */
const UNWATCHED: Readonly<Record<string, string>> = {
};

function unwatchedConditionFindings(config: BulwarkConfig): Finding[] {
  return Object.entries(config.alerting?.rules ?? {}).flatMap(([name, rule]): Finding[] => {
    const why = UNWATCHED[rule.when];
    if (!why) return [];
    return [{
      severity: 'warning', rule: 'lint.unwatched_condition', path: ['alerting', 'rules', name, 'when'],
      message: `rule ${name} watches ${rule.when}, which nothing raises yet: ${why}; it will never fire`,
      found: rule.when, hint: 'keep the rule for later, or remove it so nobody counts on it',
    }];
  });
}

function templateFindings(config: BulwarkConfig): Finding[] {
  const out: Finding[] = [];
  for (const [name, template] of Object.entries(config.communication_templates)) {
    for (const field of ['subject', 'body'] as const) {
      out.push(...templateTextFindings(['communication_templates', name, field], name, template[field]));
    }
  }
  return out;
}

/** Findings for one template text; `valueOffset` lets the loader point at the variable itself. */
export function templateTextFindings(path: KeyPath, template: string, text: string): Finding[] {
  const syntax: Finding[] = templateSyntaxErrors(text).map((e) => ({
    severity: 'error', rule: 'lint.template_syntax', path, valueOffset: e.offset,
    message: `template ${template}: ${e.message}`,
    hint: 'write variables as {{name}} and sections as {{#name}}…{{/name}}',
  }));
  const unknown: Finding[] = templateVariables(text).filter((v) => !isTemplateVariable(v.name)).map((v) => {
    const match = suggest(v.name, Object.keys(TEMPLATE_VARIABLES));
    return {
      severity: 'error', rule: 'lint.unknown_template_variable', path, valueOffset: v.offset,
      message: `template ${template} uses "${v.name}", which is not a template variable, so it would be sent as written`,
      found: v.name,
      expected: `one of: ${Object.keys(TEMPLATE_VARIABLES).join(', ')}`,
      hint: match !== undefined ? `did you mean "${match}"?` : 'use one of the variables listed (bulwark template render NAME shows a template with sample values)',
      ...(match !== undefined ? { suggestion: match } : {}),
    };
  });
  return [...syntax, ...unknown];
}

function escalationTargetFindings(config: BulwarkConfig): Finding[] {
  const alerting = config.alerting;
  if (!alerting) return [];
  const out: Finding[] = [];
  const people = new Set(Object.keys(alerting.people));
  const schedules = new Set(Object.keys(alerting.schedules));
  const rolesReachable = alerting.notification_channels.some((n) => n.severities.length > 0);
  for (const [policy, { levels }] of Object.entries(alerting.escalation_policies)) {
    levels.forEach((level, i) => level.targets.forEach((target, j) => {
      if (resolveChannelRef(alerting.channels, target) !== undefined || people.has(target) || schedules.has(target) || rolesReachable) return;
      const path = ['alerting', 'escalation_policies', policy, i, 'notify', ...(level.targets.length > 1 ? [j] : [])];
      out.push(unreachableTarget(config, path, policy, i, target));
    }));
  }
  return out;
}

function unreachableTarget(config: BulwarkConfig, path: KeyPath, policy: string, level: number, target: string): Finding {
  const alerting = config.alerting!;
  const names = [...Object.keys(alerting.channels), ...Object.keys(alerting.people), ...Object.keys(alerting.schedules)];
  const match = suggest(target, names);
  return {
    severity: 'error', rule: 'lint.unreachable_escalation_target', path,
    message: `level ${level + 1} of escalation policy ${policy} notifies "${target}", which is no channel, person or on-call schedule, and no notification_channels entry carries a severity, so nobody would be notified`,
    found: target,
    expected: names.length > 0 ? `a channel, person or schedule: ${names.slice(0, 12).join(', ')}` : 'a channel, person or schedule (none are defined)',
    hint: match !== undefined
      ? `did you mean "${match}"?`
      : `define a channel, person or schedule named ${target} under alerting.channels, alerting.people or alerting.schedules, or a notification_channels entry such as { pagerduty: "critical alerts" } that reaches the role`,
    ...(match !== undefined ? { suggestion: match } : {}),
  };
}

function severityPolicyFindings(config: BulwarkConfig): Finding[] {
  const alerting = config.alerting;
  if (!alerting) return [];
  const policies = Object.keys(alerting.escalation_policies);
  return Object.entries(alerting.severity_policies)
    .filter(([, policy]) => policy !== undefined && !policies.includes(policy))
    .map(([severity, policy]) => unknownName(['alerting', 'severity_policies', severity], policy!, `policy for ${severity}`, 'alerting.escalation_policies', policies));
}

/** The policy a severity escalates through when a rule names none. */
function severityPolicy(config: BulwarkConfig, severity: Severity): string {
  return config.alerting?.severity_policies[severity] ?? severity;
}

function reachable(config: BulwarkConfig, severity: Severity, policy: string): boolean {
  const alerting = config.alerting!;
  return alerting.escalation_policies[policy] !== undefined || alerting.notification_channels.some((n) => n.severities.includes(severity));
}

/**
 * A severity in use that reaches nobody. Without `rules:` the rules follow
 * from the tiers and page as critical, so critical is always in use.
 */
function unreachableSeverityFindings(config: BulwarkConfig): Finding[] {
  const alerting = config.alerting;
  if (!alerting) return [];
  const out: Finding[] = [];
  const rules = Object.entries(alerting.rules ?? {});
  for (const severity of SEVERITIES) {
    const users = rules.filter(([, r]) => r.severity === severity && r.escalation === undefined);
    const inUse = severity === 'critical' ? alerting.rules === undefined || users.length > 0 : users.length > 0;
    const policy = severityPolicy(config, severity);
    if (!inUse || reachable(config, severity, policy)) continue;
    const path: KeyPath = users.length > 0 ? ['alerting', 'rules', users[0]![0], 'severity'] : ['alerting'];
    out.push({
      severity: 'warning', rule: 'lint.unreachable_severity', path,
      message: `${severity} alerts reach nobody: there is no escalation policy "${policy}" and no notification_channels entry for ${severity} alerts`,
      hint: `add alerting.escalation_policies.${policy}, map the severity with alerting.severity_policies.${severity}, or add a notification_channels entry such as { pagerduty: "${severity} alerts" }`,
    });
  }
  return out;
}
