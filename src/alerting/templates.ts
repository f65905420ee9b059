import Mustache from 'mustache';
import { toMustache, type BulwarkConfig, type CommunicationTemplate } from '../config/index.js';
import type { NotificationKind } from './types.js';

/**
 * Communication templates: the user's from `communication_templates`, else the
 * built-in defaults below, rendered with Mustache (logic-less: a template can
 * show values and optional sections, never run code). Values are escaped only
 * in HTML; a subject or a plain-text body shows them as they are.
 */

export const TEMPLATE_KINDS = ['incident_notification', 'resolution_notification', 'acknowledged', 'update_due', 'review_due', 'daily_summary'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** Seed 000's two crisis-communication templates verbatim (its bracket placeholders), and short ones for the rest. */
export const DEFAULT_TEMPLATES: Readonly<Record<TemplateKind, CommunicationTemplate>> = {
  incident_notification: {
    subject: 'Service Disruption - [Service Name]',
    body: 'We are currently experiencing an issue with [service_name] that began at [start_time].\n\n'
      + 'Impact: [impact_description]\nCurrent Status: [current_status]\nNext Update: [next_update_time]\n\n'
      + 'We apologize for any inconvenience and are working to resolve this as quickly as possible.\n',
  },
  resolution_notification: {
    subject: 'Service Restored - [Service Name]',
    body: 'The issue with [service_name] has been resolved as of [resolution_time].\n\n'
      + 'Root Cause: [root_cause_summary]\nResolution: [resolution_summary]\n\n'
      + 'We will conduct a post-incident review and share findings within 48 hours.\n',
  },
  acknowledged: {
    subject: 'Acknowledged - {{service_name}}',
    body: 'Incident {{incident_id}} ({{title}}) was acknowledged by {{acknowledged_by}}; escalation has stopped.\n'
      + '{{#owner}}Owner: {{owner}}\n{{/owner}}{{#incident_url}}{{incident_url}}\n{{/incident_url}}',
  },
  update_due: {
    subject: 'Update due - incident {{incident_id}} ({{service_name}})',
    body: '{{#owner}}{{owner}}, the{{/owner}}{{^owner}}The{{/owner}} next public update on incident {{incident_id}} ({{title}}) is due at {{next_update_time}}.\n'
      + 'Current Status: {{current_status}}\n\nPost an update or resolve the incident.\n{{#incident_url}}{{incident_url}}\n{{/incident_url}}',
  },
  review_due: {
    subject: 'Post-incident review due - {{service_name}}',
    body: 'Incident {{incident_id}} ({{title}}) was resolved at {{resolution_time}} after {{duration}}.\n'
      + 'Its post-incident review is due by {{review_due}}.\n\n'
      + 'Root Cause: {{root_cause_summary}}\nResolution: {{resolution_summary}}\n',
  },
  daily_summary: {
    subject: '{{title}}',
    body: '{{summary}}\n',
  },
};

const BY_NOTIFICATION: Record<NotificationKind, TemplateKind> = {
  trigger: 'incident_notification',
  escalate: 'incident_notification',
  acknowledge: 'acknowledged',
  resolve: 'resolution_notification',
  update_due: 'update_due',
  review_due: 'review_due',
  summary: 'daily_summary',
};

export function templateKindOf(kind: NotificationKind): TemplateKind {
  return BY_NOTIFICATION[kind];
}

export interface RenderedTemplate {
  subject: string;
  text: string;
  html?: string;
}

const verbatim = (value: unknown): string => String(value);

/** Render a template: the subject and text as they are, the HTML with every value escaped and line breaks as <br>. */
export function renderTemplate(template: CommunicationTemplate, vars: Record<string, string>, { html }: { html: boolean }): RenderedTemplate {
  const subject = Mustache.render(toMustache(template.subject), vars, {}, { escape: verbatim }).replace(/\s*\r?\n\s*/g, ' ').trim();
  const body = toMustache(template.body);
  const text = Mustache.render(body, vars, {}, { escape: verbatim });
  if (!html) return { subject, text };
  return { subject, text, html: Mustache.render(body, vars).replace(/\r?\n/g, '<br>') };
}

/**
 * The template for a notification: the rule's own (`template`, or
 * `resolution_template` for a resolution) when it names one, else the user's
 * template of the kind's name (seed 000's `incident_notification`,
 * `resolution_notification`), else the built-in default.
 */
export function templateFor(
  kind: TemplateKind | NotificationKind,
  config: Pick<BulwarkConfig, 'communication_templates'>,
  ruleTemplateName?: string,
): CommunicationTemplate {
  const templates = config.communication_templates;
  const name = isTemplateKind(kind) ? kind : templateKindOf(kind);
  if (ruleTemplateName !== undefined && Object.hasOwn(templates, ruleTemplateName)) return templates[ruleTemplateName]!;
  return Object.hasOwn(templates, name) ? templates[name]! : DEFAULT_TEMPLATES[name];
}

export function isTemplateKind(name: string): name is TemplateKind {
  return (TEMPLATE_KINDS as readonly string[]).includes(name);
}

/** Every template a configuration can render by name: its own and the defaults it does not override. */
export function templateNames(config: Pick<BulwarkConfig, 'communication_templates'>): string[] {
  return [...new Set([...Object.keys(config.communication_templates), ...TEMPLATE_KINDS])].sort();
}

/** A template by name (the user's, else a default), or undefined. */
export function templateNamed(name: string, config: Pick<BulwarkConfig, 'communication_templates'>): CommunicationTemplate | undefined {
  if (Object.hasOwn(config.communication_templates, name)) return config.communication_templates[name];
  return isTemplateKind(name) ? DEFAULT_TEMPLATES[name] : undefined;
}
