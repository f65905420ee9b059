import type { Command } from 'commander';
import { renderTemplate, templateNamed, templateNames } from '../../alerting/index.js';
import { BulwarkError } from '../../core/errors.js';
import { didYouMean, loadConfigFile, type BulwarkConfig } from '../../config/index.js';
import { getJson, resolveApi } from '../api-client.js';
import { EXIT } from '../exit-codes.js';
import { print, printError, printJSON } from '../output.js';

export interface TemplateRenderOptions {
  config: string;
  incident?: string;
  json?: boolean;
  html?: boolean;
  url?: string;
  token?: string;
}

/** What `GET /api/v1/incidents/:id` answers; only `vars` is used here. */
interface IncidentAnswer {
  incident: unknown;
  vars: Record<string, string>;
}

/** Values for a preview without an incident: every one of them says it is an example. */
export const SAMPLE_VARS: Readonly<Record<string, string>> = {
  service: 'example-api',
  service_name: 'example-api',
  severity: 'critical',
  status: 'triggered',
  current_status: 'Investigating (sample)',
  title: 'example-api is down (sample: all 3 endpoints failing)',
  summary: 'example-api is down (sample: all 3 endpoints failing)',
  started_at: '2026-01-15T09:30:00.000Z',
  start_time: '2026-01-15 09:30 UTC',
  impact: 'example-api (tier premium) and example-web (tier enterprise), which depends on it',
  impact_description: 'example-api (tier premium) and example-web (tier enterprise), which depends on it',
  next_update: '2026-01-15T10:00:00.000Z',
  next_update_time: '2026-01-15 10:00 UTC',
  resolved_at: '2026-01-15T10:12:00.000Z',
  resolution_time: '2026-01-15 10:12 UTC',
  duration: '42m',
  root_cause: 'Sample root cause: a full disk on the example database',
  root_cause_summary: 'Sample root cause: a full disk on the example database',
  resolution: 'Sample resolution: old WAL removed and disk grown',
  resolution_summary: 'Sample resolution: old WAL removed and disk grown',
  incident_id: '0',
  incident_url: 'http://127.0.0.1:9180/api/v1/incidents/0',
  acknowledge_url: 'http://127.0.0.1:9180/api/v1/incidents/0/ack?sample',
  resolve_url: 'http://127.0.0.1:9180/api/v1/incidents/0/resolve?sample',
  owner: 'sample-engineer',
  tier: 'premium',
  zone: 'example-zone-a',
  region: 'example-region',
  rule: 'example_service_down',
  acknowledged_by: 'sample-engineer',
  review_due: '2026-01-17 10:12 UTC',
};

export function registerTemplate(program: Command): void {
  const template = program.command('template').description('communication templates: preview what a notification says');
  template
    .command('render <name>')
    .description('render a communication template (yours from communication_templates, or a built-in default) with sample values or a real incident\'s')
    .requiredOption('-c, --config <file>', 'configuration file whose communication_templates to use')
    .option('--incident <id>', 'render with the values of this incident, fetched from the running daemon')
    .option('--html', 'also print the HTML body as email sends it (values escaped)')
    .option('--json', 'print subject, text (and html) as JSON')
    .option('--url <url>', 'API of the running daemon, with --incident (default: $BULWARK_URL, api.listen of -c, or http://127.0.0.1:9180)')
    .option('--token <token>', 'API token, with --incident (default: $BULWARK_TOKEN)')
    .addHelpText('after', [
      '',
      'Without --incident the values are samples (service "example-api"); with it they come from GET /api/v1/incidents/ID.',
      'Built-in templates: incident_notification, resolution_notification, acknowledged, update_due, review_due, daily_summary.',
      'Exit codes: 0 rendered, 2 unknown template, unusable configuration, or the daemon cannot be reached.',
    ].join('\n'))
    .action(async (name: string, options: TemplateRenderOptions) => {
      const result = await runTemplateRender(name, options);
      if (result.note !== undefined && !options.json) printError(result.note);
      if (options.json) printJSON(result.json);
      else print(result.output);
      process.exitCode = EXIT.ok;
    });
}

export interface TemplateRenderResult {
  output: string;
  json: Record<string, unknown>;
  /** Said on stderr, apart from the rendered message: where the values came from. */
  note?: string;
}

/** The whole of `bulwark template render` without touching the process; usage errors are thrown (exit 2). */
export async function runTemplateRender(name: string, options: TemplateRenderOptions): Promise<TemplateRenderResult> {
  const config = await loadTemplatesConfig(options.config);
  const template = templateNamed(name, config);
  if (template === undefined) {
    const known = templateNames(config);
    throw new BulwarkError('USAGE', `unknown template "${name}"; known templates: ${known.join(', ')}`, {
      hint: didYouMean(name, known) ?? 'define it under communication_templates, or use one of the known names',
    });
  }
  const vars = options.incident === undefined ? SAMPLE_VARS : await incidentVars(options);
  const rendered = renderTemplate(template, { ...vars }, { html: options.html === true });
  const lines = [`Subject: ${rendered.subject}`, '', rendered.text.replace(/\n$/, '')];
  if (rendered.html !== undefined) lines.push('', '--- html ---', rendered.html);
  return {
    output: lines.join('\n'),
    json: { template: name, sample: options.incident === undefined, ...rendered },
    note: options.incident === undefined ? `(rendered with sample values; pass --incident ID for a real incident's)` : undefined,
  };
}

async function loadTemplatesConfig(file: string): Promise<Pick<BulwarkConfig, 'communication_templates'>> {
  const loaded = await loadConfigFile(file, { lint: false, unresolvedSecrets: 'warning', resolveSecrets: false });
  if (loaded.config === undefined) {
    throw new BulwarkError(loaded.unusable ? 'CONFIG_SYNTAX' : 'USAGE', `${loaded.file} does not pass the schema, so its templates cannot be used`, {
      hint: `run: bulwark check -c ${file}`,
    });
  }
  return loaded.config;
}

async function incidentVars(options: TemplateRenderOptions): Promise<Record<string, string>> {
  const id = options.incident ?? '';
  if (!/^[1-9]\d*$/.test(id)) throw new BulwarkError('USAGE', `--incident expects an incident number such as 12, not "${id}"`);
  const api = await resolveApi(options);
  const answer = await getJson<IncidentAnswer>(api, `/api/v1/incidents/${id}`);
  return answer.vars ?? {};
}
