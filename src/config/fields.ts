import { z } from 'zod';
import { NAME_PATTERN } from '../core/names.js';
import { formatDurationShort, parseDuration, parsePercent, parseSize, type Parsed } from '../core/units.js';
import { parsePolicySchedule, parseSchedule } from './schedule.js';
import { ENDPOINT_URL_FORMS, HOST_FORMS, endpointUrlProblem, hostProblem } from './address.js';

/** A value parsed by one of our own parsers; a failure becomes one schema issue naming what was expected. */
function parsedBy<T>(parse: (input: unknown) => Parsed<T>) {
  return z.unknown().transform((input, ctx): T => {
    const result = parse(input);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: `expected ${result.expected}`, params: { expected: result.expected } });
    return z.NEVER;
  });
}

export const duration = () => parsedBy(parseDuration);
/** A duration that drives a timer: Node's timers hold at most ~24.8 days, and a probe interval of days is a mistake. */
export const boundedDuration = (maxMs: number) =>
  parsedBy((input) => {
    const parsed = parseDuration(input);
    if (!parsed.ok || parsed.value <= maxMs) return parsed;
    return { ok: false as const, expected: `a duration of at most ${formatDurationShort(maxMs)}` };
  });
export const percent = () => parsedBy((v) => parsePercent(v));
export const percentOrZero = () => parsedBy((v) => parsePercent(v, { allowZero: true }));
export const size = () => parsedBy(parseSize);
export const schedule = () => parsedBy(parseSchedule);
export const policySchedule = () => parsedBy(parsePolicySchedule);

export const name = () =>
  z.string().regex(NAME_PATTERN, { message: 'expected a name of letters, digits, "_", "." or "-" (at most 63 characters)' });

export const positiveInt = () => z.number().int().positive();
export const port = () => z.number().int().min(1).max(65535);

/** "host:port", "[::1]:port" or ":port"; port 0 lets the OS choose (tests, demos). */
export const listenAddress = () =>
  z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, {
    message: 'expected a listen address such as 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080',
  });

export const httpUrl = () =>
  z.string().refine((value) => isUrl(value, ['http:', 'https:']), { message: 'expected an http:// or https:// URL' });

/** A string `problemOf` finds nothing wrong with; its problem becomes one issue, with the forms accepted. */
function checkedString(problemOf: (value: string) => string | undefined, expected: string) {
  return z.string().superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, params: { expected } });
  });
}

/** Where a service's endpoint is: see ENDPOINT_URL_FORMS. */
export const endpointUrl = () => checkedString(endpointUrlProblem, ENDPOINT_URL_FORMS);
/** A database member's host: a name or an IP address. */
export const hostName = () => checkedString(hostProblem, HOST_FORMS);

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Exactly one of `keys` is set: the shape of every "one of" block (repository kinds, channel kinds, sources). */
export function exactlyOne<T extends Record<string, unknown>>(keys: Array<keyof T & string>, what: string) {
  return (value: T, ctx: z.RefinementCtx) => {
    const present = keys.filter((key) => value[key] !== undefined);
    if (present.length === 1) return;
    const list = keys.join(', ');
    ctx.addIssue({
      code: 'custom',
      message: present.length === 0 ? `${what} needs one of: ${list}` : `${what} takes only one of: ${present.join(', ')}`,
      params: { expected: `exactly one of ${list}` },
    });
  };
}

/** A member of a PostgreSQL or Redis database; run by this daemon when it has `data_dir`. */
export const databaseMember = z.strictObject({
  name: name(),
  host: hostName().default('127.0.0.1'),
  port: port(),
  zone: name().optional(),
  data_dir: z.string().optional(),
  availability: percent().optional(),
});
