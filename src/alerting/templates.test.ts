import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/index.js';
import { DEFAULT_TEMPLATES, renderTemplate, templateFor } from './templates.js';

const VARS = {
  service_name: 'api', start_time: '2026-03-01 09:30 UTC', impact_description: 'Checkout unavailable for all customers',
  current_status: 'Investigating', next_update_time: '2026-03-01 10:00 UTC', resolution_time: '2026-03-01 10:12 UTC',
  root_cause_summary: 'A full disk on main-db', resolution_summary: 'Old WAL removed, disk grown',
};

const SEED_YAML = `
communication_templates:
  incident_notification:
    subject: "Service Disruption - [Service Name]"
    template: |
      We are currently experiencing an issue with [service_name] that began at [start_time].

      Impact: [impact_description]
      Current Status: [current_status]
      Next Update: [next_update_time]

      We apologize for any inconvenience and are working to resolve this as quickly as possible.
  custom:
    subject: "[resolved] {{service}} <b>"
    body: "{{service}} back: {{{impact}}}"
`;

describe('communication templates', () => {
  it('renders seed 000\'s incident notification exactly', () => {
    const out = renderTemplate(DEFAULT_TEMPLATES.incident_notification, VARS, { html: false });
    expect(out).toEqual({
      subject: 'Service Disruption - api',
      text: 'We are currently experiencing an issue with api that began at 2026-03-01 09:30 UTC.\n\n'
        + 'Impact: Checkout unavailable for all customers\nCurrent Status: Investigating\nNext Update: 2026-03-01 10:00 UTC\n\n'
        + 'We apologize for any inconvenience and are working to resolve this as quickly as possible.\n',
    });
  });

  it('renders seed 000\'s resolution notification exactly', () => {
    const out = renderTemplate(DEFAULT_TEMPLATES.resolution_notification, VARS, { html: false });
    expect(out.subject).toBe('Service Restored - api');
    expect(out.text).toBe('The issue with api has been resolved as of 2026-03-01 10:12 UTC.\n\n'
      + 'Root Cause: A full disk on main-db\nResolution: Old WAL removed, disk grown\n\n'
      + 'We will conduct a post-incident review and share findings within 48 hours.\n');
  });

  it('renders the seed template written in bulwark.yaml the same as the default', () => {
    const config = parseConfigText(SEED_YAML, 't.yaml', { env: {} }).config!;
    const template = templateFor('trigger', config);
    expect(template).toBe(config.communication_templates.incident_notification);
    expect(renderTemplate(template, VARS, { html: false })).toEqual(renderTemplate(DEFAULT_TEMPLATES.incident_notification, VARS, { html: false }));
  });

  it('escapes values in HTML only, and never in the subject', () => {
    const vars = { ...VARS, service_name: '<script>alert(1)</script>', impact_description: 'a & b' };
    const out = renderTemplate(DEFAULT_TEMPLATES.incident_notification, vars, { html: true });
    expect(out.subject).toBe('Service Disruption - <script>alert(1)</script>');
    expect(out.text).toContain('issue with <script>alert(1)</script> that');
    expect(out.html).toContain('issue with &lt;script&gt;alert(1)&lt;&#x2F;script&gt; that');
    expect(out.html).toContain('<br><br>Impact: a &amp; b<br>Current Status: Investigating<br>Next Update: 2026-03-01 10:00 UTC<br><br>');
    expect(out.html).not.toContain('\n');
  });

  it('reads Mustache when the text has {{, keeping brackets as text', () => {
    const config = parseConfigText(SEED_YAML, 't.yaml', { env: {} }).config!;
    const out = renderTemplate(config.communication_templates.custom!, { service: 'api', impact: '<i>' }, { html: true });
    expect(out).toEqual({ subject: '[resolved] api <b>', text: 'api back: <i>', html: 'api back: <i>' });
  });

  it('chooses the rule\'s template, then the user\'s of that kind, then the default', () => {
    const config = parseConfigText(SEED_YAML, 't.yaml', { env: {} }).config!;
    expect(templateFor('resolve', config, 'custom')).toBe(config.communication_templates.custom);
    expect(templateFor('resolve', config, 'missing')).toBe(DEFAULT_TEMPLATES.resolution_notification);
    expect(templateFor('update_due', config)).toBe(DEFAULT_TEMPLATES.update_due);
    const due = renderTemplate(DEFAULT_TEMPLATES.update_due, { ...VARS, incident_id: '7', title: 'api is down', owner: 'alice' }, { html: false });
    expect(due.text.split('\n')[0]).toBe('alice, the next public update on incident 7 (api is down) is due at 2026-03-01 10:00 UTC.');
  });
});
