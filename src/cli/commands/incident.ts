import type { Command } from 'commander';
import { BulwarkError } from '../../core/errors.js';
import { getJson, resolveApi, sendJson } from '../api-client.js';
import { print, printJSON } from '../output.js';
import { renderDetail, renderIncidents, type IncidentAnswer, type IncidentDetailAnswer } from './incident-render.js';

export interface ApiOptions {
  url?: string;
  token?: string;
  config?: string;
  json?: boolean;
}

const EXIT_HELP = `
Exit codes:
  0  done
  1  the daemon refused: no such incident, or the action does not apply (a resolved incident cannot be acknowledged)
  2  bad arguments (an ID that is not a positive whole number), the daemon cannot be reached, or the token is refused`;

const MAX_LIMIT = 1000;

/** --url, --token, -c and --json, as every command that talks to the daemon has them. */
export function withApiOptions(command: Command, exitHelp = EXIT_HELP): Command {
  return command
    .option('--url <url>', 'API of the running daemon (default: $BULWARK_URL, api.listen of -c, or http://127.0.0.1:9180)')
    .option('--token <token>', 'API token (default: $BULWARK_TOKEN)')
    .option('-c, --config <file>', 'configuration file, to find api.listen')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', exitHelp);
}

/** A positive whole number, checked before any request. */
export function parseId(raw: string, what: 'incident' | 'silence'): number {
  const id = /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new BulwarkError('USAGE', `${what} ID must be a positive whole number, got "${raw}"`, { hint: `the IDs are in the first column of: bulwark ${what} ls` });
  }
  return id;
}

export function registerIncident(program: Command): void {
  const incident = program
    .command('incident')
    .description('incidents: list them, show one with its timeline and notifications, acknowledge, resolve, add a note, assign an owner');

  withApiOptions(incident.command('ls').description('open incidents (triggered or acknowledged), newest first')
    .option('--all', 'resolved incidents too')
    .option('--limit <n>', `at most this many (1 to ${MAX_LIMIT})`, '100'))
    .action(async (options: ApiOptions & { all?: boolean; limit: string }) => {
      const limit = parseLimit(options.limit);
      const api = await resolveApi(options);
      const state = options.all ? '' : '&state=triggered,acknowledged';
      const answer = await getJson<{ incidents: IncidentAnswer[] }>(api, `/api/v1/incidents?limit=${limit}${state}`);
      if (options.json) printJSON(answer);
      else print(answer.incidents.length === 0 ? `no ${options.all ? '' : 'open '}incidents` : renderIncidents(answer.incidents, Date.now()));
    });

  withApiOptions(incident.command('show').argument('<id>', 'incident ID').description('one incident: its fields, timeline and notifications (state, attempts, last error)'))
    .action(async (raw: string, options: ApiOptions) => {
      const id = parseId(raw, 'incident');
      const api = await resolveApi(options);
      const answer = await getJson<IncidentDetailAnswer>(api, `/api/v1/incidents/${id}`);
      if (options.json) printJSON(answer);
      else print(renderDetail(answer, Date.now()));
    });

  registerActions(incident);
}

function registerActions(incident: Command): void {
  withApiOptions(incident.command('ack').argument('<id>', 'incident ID').description('acknowledge: you are on it; the escalation stops'))
    .action(async (raw: string, options: ApiOptions) => {
      await act(raw, options, 'ack', undefined, (i) => `incident ${i.id} acknowledged by ${i.acknowledgedBy ?? '?'} at ${iso(i.acknowledgedAt)}`);
    });

  withApiOptions(incident.command('resolve').argument('<id>', 'incident ID').description('resolve: the problem is fixed; the resolution notice goes out')
    .option('--root-cause <text>', 'what caused it (goes into the resolution notice)')
    .option('--resolution <text>', 'what fixed it'))
    .action(async (raw: string, options: ApiOptions & { rootCause?: string; resolution?: string }) => {
      const body = { ...(options.rootCause === undefined ? {} : { root_cause: options.rootCause }), ...(options.resolution === undefined ? {} : { resolution: options.resolution }) };
      await act(raw, options, 'resolve', body, (i) => `incident ${i.id} resolved by ${i.resolvedBy ?? '?'} at ${iso(i.resolvedAt)}`);
    });

  withApiOptions(incident.command('note').argument('<id>', 'incident ID').argument('<text>', 'the note (1 to 4000 characters)')
    .description('add a note to the timeline; it counts as the update the owner owes')
    .option('--public', 'also post it as an update on the public status page'))
    .action(async (raw: string, text: string, options: ApiOptions & { public?: boolean }) => {
      if (text.trim() === '' || text.length > 4000) throw new BulwarkError('USAGE', 'the note must have 1 to 4000 characters');
      await act(raw, options, 'notes', { text, public: options.public === true }, (i) => `${options.public ? 'public update' : 'note'} added to incident ${i.id}`);
    });

  withApiOptions(incident.command('assign').argument('<id>', 'incident ID').argument('<owner>', 'who owns it now')
    .description('set the incident\'s owner (who owes the updates)'))
    .action(async (raw: string, owner: string, options: ApiOptions) => {
      await act(raw, options, 'assign', { owner }, (i) => `incident ${i.id} is owned by ${i.owner ?? '?'}`);
    });
}

async function act(raw: string, options: ApiOptions, path: string, body: unknown, line: (incident: IncidentAnswer) => string): Promise<void> {
  const id = parseId(raw, 'incident');
  const api = await resolveApi(options);
  const answer = await sendJson<{ incident: IncidentAnswer }>(api, 'POST', `/api/v1/incidents/${id}/${path}`, body);
  if (options.json) printJSON(answer);
  else print(line(answer.incident));
}

function parseLimit(raw: string): number {
  const limit = /^\d{1,9}$/.test(raw) ? Number(raw) : 0;
  if (limit < 1 || limit > MAX_LIMIT) throw new BulwarkError('USAGE', `--limit must be a whole number from 1 to ${MAX_LIMIT}, got "${raw}"`);
  return limit;
}

function iso(at: number | null): string {
  return at === null ? '?' : new Date(at).toISOString();
}
