/**
 * The variables a communication template may use, and the two ways of writing
 * them. Seed 000 writes placeholders in brackets (`[Service Name]`,
 * `[start_time]`); Mustache (`{{service_name}}`) is the engine. A template
 * with no `{{` is read in the bracket syntax; one with `{{` is Mustache, and
 * brackets are then plain text, so "[resolved] {{service}}" means what it says.
 * `check` needs these to reject unknown variables, so they live in config.
 */

/** Every variable a notification is rendered with, and what it holds. */
export const TEMPLATE_VARIABLES: Readonly<Record<string, string>> = {
  service: 'the service or database the incident is about (its name in bulwark.yaml)',
  service_name: 'same as service (seed 000 spelling)',
  severity: 'critical, warning or info',
  status: 'the incident state: triggered, acknowledged or resolved',
  current_status: 'the incident state in words, for people (seed 000 spelling)',
  title: 'one line for people: "api is down (all 3 endpoints failing)"',
  summary: 'the alert summary, same as title when there is one alert',
  started_at: 'when the incident opened, ISO 8601 UTC',
  start_time: 'when the incident opened, for people (seed 000 spelling)',
  impact: 'the services affected through the dependency graph, with their tiers',
  impact_description: 'same as impact (seed 000 spelling)',
  next_update: 'when the next public update is due, ISO 8601 UTC',
  next_update_time: 'when the next public update is due, for people (seed 000 spelling)',
  resolved_at: 'when the incident resolved, ISO 8601 UTC',
  resolution_time: 'when the incident resolved, for people (seed 000 spelling)',
  duration: 'how long the incident lasted or has lasted: "12m", "2h 5m"',
  root_cause: 'the root cause recorded on the incident',
  root_cause_summary: 'same as root_cause (seed 000 spelling)',
  resolution: 'what resolved the incident, as recorded on it',
  resolution_summary: 'same as resolution (seed 000 spelling)',
  incident_id: 'the incident number',
  incident_url: 'the incident in the admin API',
  acknowledge_url: 'signed one-click link that acknowledges the incident',
  resolve_url: 'signed one-click link that resolves the incident',
  owner: 'who owns the incident (the acknowledger, unless set)',
  tier: 'the SLA tier of the affected service',
  zone: 'the zone the alert is about, when it is about one',
  region: 'the region the alert is about, when it is about one',
  rule: 'the alerting rule that fired',
  acknowledged_by: 'who acknowledged the incident',
  review_due: 'when the post-incident review is due, for people',
};

export type TemplateSyntax = 'mustache' | 'brackets';

export interface TemplateVariableUse {
  /** The variable's name: a Mustache tag's name, or a bracket token normalised (`[Service Name]` → `service_name`). */
  name: string;
  /** Offset in the text of the name's first character. */
  offset: number;
}

export interface TemplateSyntaxError {
  message: string;
  offset: number;
}

/** `mustache` when the text contains `{{`, else the seed's bracket placeholders. */
export function templateSyntax(text: string): TemplateSyntax {
  return text.includes('{{') ? 'mustache' : 'brackets';
}

export function isTemplateVariable(name: string): boolean {
  return Object.hasOwn(TEMPLATE_VARIABLES, name);
}

/** Brackets around letters, digits, spaces and underscores (and at least one letter) look like a placeholder. */
const BRACKET = /\[([A-Za-z0-9 _]*[A-Za-z][A-Za-z0-9 _]*)\]/g;

function normaliseBracket(token: string): string {
  return token.trim().toLowerCase().replace(/\s+/g, '_');
}

/**
 * Each variable use in the text, in order. In the bracket syntax every token
 * that looks like a placeholder is listed, known or not: an unknown one is a
 * typo that `check` reports (it would otherwise go out to customers verbatim).
 */
export function templateVariables(text: string): TemplateVariableUse[] {
  if (templateSyntax(text) === 'brackets') {
    return [...text.matchAll(BRACKET)].map((m) => ({
      name: normaliseBracket(m[1]!),
      offset: m.index + 1 + (m[1]!.length - m[1]!.trimStart().length),
    }));
  }
  return mustacheTags(text).tags.filter((t) => t.kind !== '/' && t.name !== '.').map(({ name, offset }) => ({ name, offset }));
}

/** Unclosed tags and unbalanced sections of a Mustache template; none for the bracket syntax. */
export function templateSyntaxErrors(text: string): TemplateSyntaxError[] {
  return templateSyntax(text) === 'mustache' ? mustacheTags(text).errors : [];
}

/** The template as Mustache: known bracket placeholders become `{{name}}`, everything else stays as written. */
export function toMustache(text: string): string {
  if (templateSyntax(text) === 'mustache') return text;
  return text.replace(BRACKET, (whole, token: string) => {
    const name = normaliseBracket(token);
    return isTemplateVariable(name) ? `{{${name}}}` : whole;
  });
}

interface Tag {
  /** '' a variable, '&' or '{' unescaped, '#' '^' section open, '/' section close. */
  kind: string;
  name: string;
  offset: number;
}

const TAG = /\{\{(\{?)\s*([#^/&!>=]?)\s*/y;

/** A small scanner for the tags Bulwark allows: variables, unescaped variables, sections and comments. */
function mustacheTags(text: string): { tags: Tag[]; errors: TemplateSyntaxError[] } {
  const tags: Tag[] = [];
  const errors: TemplateSyntaxError[] = [];
  const open: Tag[] = [];
  for (let at = text.indexOf('{{'); at !== -1; at = text.indexOf('{{', at)) {
    TAG.lastIndex = at;
    const head = TAG.exec(text)!;
    const triple = head[1] === '{';
    const kind = triple ? '{' : head[2]!;
    const close = triple ? '}}}' : '}}';
    const end = text.indexOf(close, TAG.lastIndex);
    if (end === -1) {
      errors.push({ message: `"{{" opened here is never closed with "${close}"`, offset: at });
      break;
    }
    at = end + close.length;
    if (kind === '!') continue;
    const raw = text.slice(TAG.lastIndex, end);
    const name = raw.trim();
    const offset = TAG.lastIndex;
    if (kind === '>' || kind === '=') {
      errors.push({ message: kind === '>' ? 'partials ({{> name}}) are not supported in communication templates' : 'changing delimiters ({{= =}}) is not supported in communication templates', offset });
      continue;
    }
    const tag = { kind, name, offset };
    tags.push(tag);
    if (kind === '#' || kind === '^') open.push(tag);
    if (kind === '/') closeSection(open, tag, errors);
  }
  for (const section of open) errors.push({ message: `section {{#${section.name}}} is never closed with {{/${section.name}}}`, offset: section.offset });
  return { tags, errors };
}

function closeSection(open: Tag[], tag: Tag, errors: TemplateSyntaxError[]): void {
  const last = open.pop();
  if (last === undefined) errors.push({ message: `{{/${tag.name}}} closes a section that was never opened`, offset: tag.offset });
  else if (last.name !== tag.name) errors.push({ message: `{{/${tag.name}}} closes {{#${last.name}}}; close the inner section first`, offset: tag.offset });
}
