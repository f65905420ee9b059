import { describe, expect, it } from 'vitest';
import { byRule, lintYaml } from './testing.js';

const SERVICES = `
services:
  api: { endpoints: [{ url: http://a:1 }] }
`;

/** Seed 000's alerting block verbatim (indentation restored), with the channels it names. */
const SEED_ALERTING = `
alerting:
  channels:
    oncall_pager: { pagerduty: { routing_key: "\${env:PD_KEY}" } }
    engineering_team_slack: { slack: { webhook_url: https://hooks.slack.com/services/x } }
    reports: { email: { smtp: { host: smtp.example.com, from: a@example.com }, to: [eng@example.com] } }
  escalation_policies:
    critical:
      - level_1: "on_call_engineer"
        timeout: "5 minutes"
      - level_2: "engineering_manager"
        timeout: "15 minutes"
      - level_3: "cto"
        timeout: "30 minutes"

    warning:
      - level_1: "engineering_team_slack"
        timeout: "30 minutes"
      - level_2: "engineering_manager"
        timeout: "2 hours"

  notification_channels:
    - pagerduty: "critical alerts"
    - slack: "warning and info alerts"
    - email: "daily summary reports"
`;

const SEED_TEMPLATES = `
communication_templates:
  incident_notification:
    subject: "Service Disruption - [Service Name]"
    template: |
      We are currently experiencing an issue with [service_name] that began at [start_time].

      Impact: [impact_description]
      Current Status: [current_status]
      Next Update: [next_update_time]

      We apologize for any inconvenience and are working to resolve this as quickly as possible.

  resolution_notification:
    subject: "Service Restored - [Service Name]"
    template: |
      The issue with [service_name] has been resolved as of [resolution_time].

      Root Cause: [root_cause_summary]
      Resolution: [resolution_summary]

      We will conduct a post-incident review and share findings within 48 hours.
`;

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string, from = 0): { line: number; column: number } {
  const at = text.indexOf(needle, from);
  if (at === -1) throw new Error(`${needle} not in fixture`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

describe('lint: alerting', () => {
  it('passes seed 000\'s alerting block and crisis templates as written', () => {
    const findings = lintYaml(SERVICES + SEED_ALERTING + SEED_TEMPLATES);
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(findings.filter((f) => f.rule.includes('escalation') || f.rule.includes('template') || f.rule.includes('severity'))).toEqual([]);
  });

  it('every condition a rule may name has a source: no unwatched warning for drill_failed or certificate_expiring', () => {
    const rules = '  rules:\n    drills: { when: drill_failed, severity: warning }\n    api: { when: service_down, severity: critical }\n';
    const findings = byRule(lintYaml(SERVICES + SEED_ALERTING.trimEnd() + '\n' + rules + SEED_TEMPLATES), 'lint.unwatched_condition');
    expect(findings).toEqual([]);
  });

  it('points at an unknown variable inside a block scalar, with did-you-mean', () => {
    const yaml = SERVICES + SEED_ALERTING + SEED_TEMPLATES.replace('Current Status: [current_status]', 'Current Status: [curent_status]');
    const [finding, ...rest] = byRule(lintYaml(yaml), 'lint.unknown_template_variable');
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      severity: 'error', path: ['communication_templates', 'incident_notification', 'body'],
      found: 'curent_status', hint: 'did you mean "current_status"?', suggestion: 'current_status',
    });
    expect(finding?.location).toMatchObject(positionOf(yaml, 'curent_status'));
  });

  it('points at an unknown variable in a quoted subject after escapes, and in Mustache', () => {
    const yaml = SERVICES + `
communication_templates:
  a:
    subject: "Down \\"now\\" \\u00e9 - {{servce}}"
    body: 'It''s {{ severty }} since {{started_at}}'
  b:
    subject: plain {{service}}
    body: >
      folded line one
      and two {{imapct}}
`;
    const found = byRule(lintYaml(yaml), 'lint.unknown_template_variable');
    expect(found.map((f) => [f.found, f.location?.line, f.location?.column])).toEqual([
      ['servce', positionOf(yaml, 'servce').line, positionOf(yaml, 'servce').column],
      ['severty', positionOf(yaml, 'severty').line, positionOf(yaml, 'severty').column],
      ['imapct', positionOf(yaml, 'imapct').line, positionOf(yaml, 'imapct').column],
    ]);
    expect(found[0]?.hint).toBe('did you mean "service"?');
  });

  it('reports Mustache syntax errors in a template', () => {
    const yaml = SERVICES + `
communication_templates:
  a: { subject: "x {{#owner}}", body: b }
`;
    const [finding] = byRule(lintYaml(yaml), 'lint.template_syntax');
    expect(finding).toMatchObject({ severity: 'error', path: ['communication_templates', 'a', 'subject'] });
    expect(finding?.location).toMatchObject(positionOf(yaml, 'owner'));
  });

  it('flags an escalation target that is no channel, person or schedule, at the seed-style level\'s line', () => {
    const yaml = SERVICES + SEED_ALERTING.replace(/ {2}notification_channels:[\s\S]*$/, '').replace('engineering_team_slack"', 'engineering_team_slak"');
    const found = byRule(lintYaml(yaml), 'lint.unreachable_escalation_target');
    expect(found.map((f) => f.found)).toEqual(['on_call_engineer', 'engineering_manager', 'cto', 'engineering_team_slak', 'engineering_manager']);
    const slak = found[3]!;
    expect(slak.path).toEqual(['alerting', 'escalation_policies', 'warning', 0, 'notify']);
    expect(slak.location).toMatchObject(positionOf(yaml, '"engineering_team_slak"'));
    expect(slak.hint).toBe('did you mean "engineering_team_slack"?');
    expect(found[0]?.message).toContain('no channel, person or on-call schedule');
    expect(found[0]?.hint).toContain('notification_channels');
  });

  it('accepts people, schedules and channel types as targets, and { notify } levels under levels:', () => {
    const yaml = SERVICES + `
alerting:
  channels:
    pager: { pagerduty: { routing_key: k } }
  people:
    alice: { channels: [pager] }
  schedules:
    primary: { people: [alice] }
  escalation_policies:
    critical:
      repeat: 2
      levels:
        - { notify: [primary, alice, pager, pagerduty] }
        - { notify: [primary, bosss], after: 10m }
`;
    const [finding, ...rest] = byRule(lintYaml(yaml), 'lint.unreachable_escalation_target');
    expect(rest).toEqual([]);
    expect(finding?.path).toEqual(['alerting', 'escalation_policies', 'critical', 1, 'notify', 1]);
    expect(finding?.location).toMatchObject(positionOf(yaml, 'bosss'));
  });

  it('flags a severity policy that does not exist and a critical severity that reaches nobody', () => {
    const yaml = SERVICES + `
alerting:
  channels: { chat: { slack: { webhook_url: https://hooks.example.com/x } } }
  escalation_policies:
    pages: [{ notify: chat }]
  severity_policies: { warning: pagse }
`;
    const findings = lintYaml(yaml);
    expect(byRule(findings, 'lint.unknown_reference')[0]).toMatchObject({ path: ['alerting', 'severity_policies', 'warning'], hint: 'did you mean "pages"?' });
    const [unreachable] = byRule(findings, 'lint.unreachable_severity');
    expect(unreachable).toMatchObject({ severity: 'warning', path: ['alerting'] });
    expect(unreachable?.message).toContain('critical alerts reach nobody');
  });
});
