import type { Command } from 'commander';
import { parseDuration } from '../../config/index.js';
import { BulwarkError } from '../../core/errors.js';
import type { SilenceRecord } from '../../store/index.js';
import { getJson, resolveApi, sendJson } from '../api-client.js';
import { print, printJSON } from '../output.js';
import { parseId, withApiOptions, type ApiOptions } from './incident.js';
import { table, time } from './incident-render.js';

const EXIT_HELP = `
Exit codes:
  0  done
  1  the daemon refused: no such active silence, or a value it does not accept
  2  bad arguments (a malformed --match, a bad --duration or ID), the daemon cannot be reached, or the token is refused`;

const MAX_SILENCE_MS = 30 * 86_400_000;

interface AddOptions extends ApiOptions {
  match: string[];
  duration: string;
  comment: string;
  startsAt?: string;
}

export function registerSilence(program: Command): void {
  const silence = program
    .command('silence')
    .description('silences: suppress notifications for alerts whose labels match, for a bounded time; each one is audited');

  withApiOptions(silence.command('add').description('silence alerts whose labels match every --match, from now (or --starts-at) for --duration')
    .requiredOption('--match <label=value>', 'a label that must match, e.g. service=api or zone=us-east-1a; repeat for more (all must match)', collect, [])
    .requiredOption('--duration <duration>', 'how long, e.g. 30m, 2h, 1d (at most 30 days)')
    .requiredOption('--comment <text>', 'why (kept in the audit trail)')
    .option('--starts-at <iso>', 'start later, e.g. 2026-03-01T22:00:00Z'), EXIT_HELP)
    .action(async (options: AddOptions) => {
      const body = addBody(options);
      const api = await resolveApi(options);
      const answer = await sendJson<{ silence: SilenceRecord }>(api, 'POST', '/api/v1/silences', body);
      if (options.json) printJSON(answer);
      else print(`silence ${answer.silence.id} added: ${matchers(answer.silence)} from ${time(answer.silence.startsAt)} until ${time(answer.silence.endsAt)}`);
    });

  withApiOptions(silence.command('ls').description('active and upcoming silences').option('--all', 'expired ones too'), EXIT_HELP)
    .action(async (options: ApiOptions & { all?: boolean }) => {
      const api = await resolveApi(options);
      const answer = await getJson<{ silences: SilenceRecord[] }>(api, `/api/v1/silences${options.all ? '?all=1' : ''}`);
      if (options.json) printJSON(answer);
      else print(answer.silences.length === 0 ? 'no silences' : renderSilences(answer.silences, Date.now()));
    });

  withApiOptions(silence.command('rm').argument('<id>', 'silence ID').description('end a silence now'), EXIT_HELP)
    .action(async (raw: string, options: ApiOptions) => {
      const id = parseId(raw, 'silence');
      const api = await resolveApi(options);
      const answer = await sendJson<{ silence: SilenceRecord }>(api, 'DELETE', `/api/v1/silences/${id}`);
      if (options.json) printJSON(answer);
      else print(`silence ${answer.silence.id} ended (${matchers(answer.silence)})`);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Checked here first so that a typo costs no request and exits 2. */
function addBody(options: AddOptions): { matchers: Record<string, string>; duration: string; comment: string; starts_at?: string } {
  const pairs: Record<string, string> = {};
  for (const match of options.match) {
    const found = /^([a-z_]+)=(.+)$/.exec(match);
    if (!found) throw new BulwarkError('USAGE', `--match must be label=value with a label of lowercase letters and underscores, got "${match}"`, { hint: 'e.g. --match service=api --match zone=us-east-1a' });
    pairs[found[1] as string] = found[2] as string;
  }
  const duration = parseDuration(options.duration);
  if (!duration.ok || duration.value <= 0 || duration.value > MAX_SILENCE_MS) {
    throw new BulwarkError('USAGE', `--duration must be a duration from 1s to 30 days, such as 30m, 2h or 1d; got "${options.duration}"`);
  }
  if (options.comment.trim() === '') throw new BulwarkError('USAGE', '--comment must say why');
  if (options.startsAt !== undefined && Number.isNaN(Date.parse(options.startsAt))) {
    throw new BulwarkError('USAGE', `--starts-at must be an ISO time such as 2026-03-01T22:00:00Z, got "${options.startsAt}"`);
  }
  return { matchers: pairs, duration: options.duration, comment: options.comment, ...(options.startsAt === undefined ? {} : { starts_at: new Date(options.startsAt).toISOString() }) };
}

function matchers(s: SilenceRecord): string {
  return Object.entries(s.matchers).map(([k, v]) => `${k}=${v}`).join(' ');
}

function state(s: SilenceRecord, now: number): string {
  if (s.expiredAt !== null) return `ended by ${s.expiredBy ?? '?'}`;
  if (s.endsAt <= now) return 'expired';
  return s.startsAt > now ? 'pending' : 'active';
}

export function renderSilences(silences: SilenceRecord[], now: number): string {
  const rows = [['ID', 'STATE', 'MATCHERS', 'STARTS', 'ENDS', 'BY', 'COMMENT']];
  for (const s of silences) rows.push([String(s.id), state(s, now), matchers(s), time(s.startsAt), time(s.endsAt), s.createdBy, s.comment.replace(/\s+/g, ' ')]);
  return table(rows).join('\n');
}
