import { describe, expect, it } from 'vitest';
import { parseConfigText } from './load.js';
import { BASE, byRule, lintYaml } from './lint/testing.js';

const TOPOLOGY = `${BASE}
services:
  api:
    endpoints: [{ url: http://a:1, zone: z1 }]
alerting:
  channels:
    oncall: { webhook: { url: http://hook.example/x } }
  escalation_policies:
    critical: [{ notify: oncall, after: 0m }]
communication_templates:
  disaster_declaration: { subject: "Disaster - [Service Name]", body: "We declared a disaster." }
dr_testing:
  backup_restoration: { schedule: monthly }
`;

function schemaErrors(runbooks: string): Array<{ path: string; message: string }> {
  const loaded = parseConfigText(`${TOPOLOGY}\nrunbooks:\n${runbooks}`, 'test.yaml', { env: {} });
  return loaded.findings.filter((f) => f.severity === 'error').map((f) => ({ path: f.path.join('.'), message: f.message }));
}

describe('runbooks: schema', () => {
  it('takes every kind of step and reads `run: drill NAME` and a one-line checklist', () => {
    const loaded = parseConfigText(`${TOPOLOGY}
runbooks:
  region-loss:
    description: the primary region is gone
    steps:
      - { name: probe, phase: detection, command: [pg_isready, -h, db1], timeout: 10s }
      - { name: confirm, phase: detection, manual: "Provider confirms the outage" }
      - { name: prove-backups, run: drill backup_restoration }
      - { name: drain, api: { method: POST, path: /api/v1/gateway/api/endpoints/a:1/drain } }
      - name: declare
        declare: { components: [api], message: "We are restoring service in our DR region.", notify: [oncall], template: disaster_declaration }
`, 'test.yaml', { env: {} });
    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const steps = loaded.config!.runbooks['region-loss']!.steps;
    expect(steps[0]).toMatchObject({ command: ['pg_isready', '-h', 'db1'], timeout: 10_000 });
    expect(steps[1]!.manual).toEqual(['Provider confirms the outage']);
    expect(steps[2]!.run).toEqual({ drill: 'backup_restoration' });
    expect(steps[3]!.api).toMatchObject({ method: 'POST' });
    expect(steps[4]!.declare).toMatchObject({ title: 'Disaster declared', severity: 'critical', components: ['api'] });
  });

  it('refuses empty runbooks, steps with no action or two, duplicate names, and API paths outside /api/v1', () => {
    expect(schemaErrors('  empty: { steps: [] }')).toEqual([{ path: 'runbooks.empty.steps', message: 'a runbook needs at least one step' }]);
    expect(schemaErrors('  r: { steps: [{ name: a }] }')[0]!.message).toBe('a runbook step needs one of: run, command, api, manual, declare');
    expect(schemaErrors('  r: { steps: [{ name: a, manual: x, command: [ls] }] }')[0]!.message).toBe('a runbook step takes only one of: command, manual');
    expect(schemaErrors('  r: { steps: [{ name: a, manual: x }, { name: a, manual: y }] }')[0]).toMatchObject({ path: 'runbooks.r.steps.1.name' });
    expect(schemaErrors('  r: { steps: [{ name: a, api: { path: /metrics } }] }')[0]!.message).toMatch(/admin API/);
    expect(schemaErrors('  r: { steps: [{ name: a, run: restart api }] }')[0]!.message).toMatch(/drill NAME/);
    expect(schemaErrors('  r: { steps: [{ name: a, declare: { components: [api] } }] }')[0]).toMatchObject({ path: 'runbooks.r.steps.0.declare.message' });
  });
});

describe('runbooks: lint', () => {
  it('names unknown drills, components, templates and policies with a did-you-mean', () => {
    const findings = lintYaml(`${TOPOLOGY}
status_page: { title: Acme }
runbooks:
  r:
    steps:
      - { name: a, run: drill backup_restoratoin }
      - name: b
        declare: { components: [apii], message: m, template: disaster_declartion, policy: critcal }
      - { name: c, declare: { message: m } }
`);
    const refs = byRule(findings, 'lint.unknown_reference');
    expect(refs.map((f) => [f.path.join('.'), f.message, f.hint])).toEqual([
      ['runbooks.r.steps.0.run', 'drill "backup_restoratoin" is not declared under dr_testing', 'did you mean "backup_restoration"?'],
      ['runbooks.r.steps.1.declare.components.0', 'component "apii" is not declared under services or databases', 'did you mean "api"?'],
      ['runbooks.r.steps.1.declare.template', 'template "disaster_declartion" is not declared under communication_templates', 'did you mean "disaster_declaration"?'],
      ['runbooks.r.steps.1.declare.policy', 'escalation policy "critcal" is not declared under alerting.escalation_policies', 'did you mean "critical"?'],
    ]);
    expect(byRule(findings, 'lint.declaration_invisible').map((f) => f.path.join('.'))).toEqual(['runbooks.r.steps.2.declare.components']);
  });
});
