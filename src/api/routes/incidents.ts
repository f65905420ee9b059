import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { BulwarkError } from '../../core/errors.js';
import { parseDuration } from '../../config/index.js';
import type { IncidentActions, IncidentState } from '../../alerting/index.js';

const MAX_BODY = 64 * 1024;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
const MAX_SILENCE_MS = 30 * 86_400_000;
const STATES: readonly IncidentState[] = ['triggered', 'acknowledged', 'resolved'];

const resolveBody = z.strictObject({
  root_cause: z.string().trim().min(1).max(4000).optional(),
  resolution: z.string().trim().min(1).max(4000).optional(),
});
const noteBody = z.strictObject({ text: z.string().trim().min(1, 'text must not be empty').max(4000, 'text is longer than 4000 characters'), public: z.boolean().default(false) });
const assignBody = z.strictObject({
  owner: z.string().trim().min(1, 'owner must not be empty').max(200, 'owner is longer than 200 characters')
    .regex(/^[^\p{Cc}]+$/u, 'owner must not contain control characters'),
});
const declareBody = z.strictObject({
  key: z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/, 'key must be a name (letters, digits, "_", "." or "-")'),
  title: z.string().trim().min(1).max(200),
  severity: z.enum(['critical', 'warning', 'info']).default('critical'),
  components: z.array(z.string().min(1).max(63)).max(100).default([]),
  message: z.string().trim().min(1, 'message must not be empty').max(4000, 'message is longer than 4000 characters'),
  notify: z.array(z.string().min(1).max(200)).max(50).default([]),
  policy: z.string().min(1).max(63).optional(),
  template: z.string().min(1).max(63).optional(),
  incident_id: z.number().int().positive().optional(),
});
const silenceBody = z.strictObject({
  matchers: z.record(z.string(), z.string().min(1, 'a matcher value must not be empty').max(200, 'a matcher value is longer than 200 characters'))
    .refine((m) => Object.keys(m).length > 0, 'at least one matcher is needed')
    .refine((m) => Object.keys(m).length <= 20, 'at most 20 matchers')
    .superRefine((m, ctx) => {
      const bad = Object.keys(m).find((label) => !/^[a-z_]{1,100}$/.test(label));
      if (bad !== undefined) ctx.addIssue({ code: 'custom', path: [bad], message: `label "${bad.slice(0, 40)}" is not lowercase letters and underscores ([a-z_]+)` });
    }),
  duration: z.string().max(50),
  comment: z.string().trim().min(1, 'a comment is required: say why').max(1000, 'comment is longer than 1000 characters'),
  starts_at: z.iso.datetime({ offset: true }).optional(),
});

const HINTS = {
  resolve: 'send {"root_cause": "...", "resolution": "..."} (both optional, at most 4000 characters each), or no body',
  note: 'send {"text": "...", "public": false} with 1 to 4000 characters; public: true also posts it on the status page',
  assign: 'send {"owner": "alice"}',
  declare: 'send {"key": "region-loss", "title": "...", "message": "public update", "components": ["api"], "notify": ["oncall"], "template": "incident_notification", "incident_id": 3} (components, notify, template, policy, incident_id optional)',
  silence: 'send {"matchers": {"service": "api"}, "duration": "2h", "comment": "deploying", "starts_at": "2026-01-01T10:00:00Z"} (starts_at optional)',
};

/**
 * Incidents (list, detail, acknowledge, resolve, notes, owner) and silences,
 * under /api/v1 behind the token guard; the token's name is the actor.
 */
export function incidentRoutes(actions: IncidentActions): Hono {
  const app = new Hono();
  // Per route, not app.use('*'): mounted at '/', a wildcard would reach every other /api/v1 route.
  const limit = bodyLimit({ maxSize: MAX_BODY, onError: tooLarge });

  app.get('/incidents', async (c) => {
    const incidents = await actions.list({ states: parseStates(c.req.query('state')), limit: parseLimit(c.req.query('limit')) });
    return c.json({ incidents });
  });
  app.get('/incidents/:id', async (c) => c.json(await actions.detail(parseId(c.req.param('id'), 'incident'))));
  app.post('/incidents/declare', limit, async (c) => {
    const { incident_id: incidentId, ...body } = parseBody(declareBody, await readJson(c, true), HINTS.declare);
    return c.json({ incident: await actions.declare({ ...body, ...(incidentId === undefined ? {} : { incidentId }) }, actor(c)) }, 201);
  });
  app.post('/incidents/:id/ack', limit, async (c) => {
    const id = parseId(c.req.param('id'), 'incident');
    return c.json({ incident: await actions.acknowledge(id, actor(c)) });
  });
  app.post('/incidents/:id/resolve', limit, async (c) => {
    const id = parseId(c.req.param('id'), 'incident');
    const body = parseBody(resolveBody, await readJson(c, false), HINTS.resolve);
    return c.json({ incident: await actions.resolve(id, actor(c), { rootCause: body.root_cause, resolution: body.resolution }) });
  });
  app.post('/incidents/:id/notes', limit, async (c) => {
    const id = parseId(c.req.param('id'), 'incident');
    const body = parseBody(noteBody, await readJson(c, true), HINTS.note);
    return c.json({ incident: await actions.note(id, actor(c), body.text, { public: body.public }) });
  });
  app.post('/incidents/:id/assign', limit, async (c) => {
    const id = parseId(c.req.param('id'), 'incident');
    const body = parseBody(assignBody, await readJson(c, true), HINTS.assign);
    return c.json({ incident: await actions.assign(id, actor(c), body.owner) });
  });

  app.get('/silences', async (c) => c.json({ silences: await actions.listSilences(parseFlag(c.req.query('all'))) }));
  app.post('/silences', limit, async (c) => {
    const body = parseBody(silenceBody, await readJson(c, true), HINTS.silence);
    const durationMs = silenceDuration(body.duration);
    const startsAt = body.starts_at === undefined ? undefined : Date.parse(body.starts_at);
    if (startsAt !== undefined && startsAt + durationMs <= Date.now()) {
      throw new BulwarkError('BAD_REQUEST', `a silence from ${body.starts_at} for ${body.duration} has already ended`, { hint: 'omit starts_at to start now' });
    }
    const silence = await actions.addSilence({
      matchers: body.matchers, durationMs, createdBy: actor(c), comment: body.comment, ...(startsAt === undefined ? {} : { startsAt }),
    });
    return c.json({ silence }, 201);
  });
  app.delete('/silences/:id', async (c) => c.json({ silence: await actions.expireSilence(parseId(c.req.param('id'), 'silence'), actor(c)) }));
  return app;
}

function actor(c: Context): string {
  return c.get('tokenName') ?? 'api';
}

function parseId(raw: string, what: 'incident' | 'silence'): number {
  const id = /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new BulwarkError('BAD_REQUEST', `${what} id "${raw.slice(0, 40)}" is not a positive whole number`, { hint: `${what} ids are the numbers in the first column of: bulwark ${what} ls` });
  }
  return id;
}

function parseStates(raw: string | undefined): IncidentState[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const states = [...new Set(raw.split(',').map((s) => s.trim()))];
  const bad = states.find((s) => !STATES.includes(s as IncidentState));
  if (bad !== undefined) {
    throw new BulwarkError('BAD_REQUEST', `state "${bad.slice(0, 40)}" is not one of ${STATES.join(', ')}`, { hint: 'e.g. ?state=triggered,acknowledged; omit it for every state' });
  }
  return states as IncidentState[];
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const limit = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1)) throw new BulwarkError('BAD_REQUEST', `limit "${raw.slice(0, 40)}" is not a positive whole number`, { hint: `e.g. ?limit=20 (at most ${MAX_LIMIT})` });
  return Math.min(limit, MAX_LIMIT);
}

function parseFlag(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new BulwarkError('BAD_REQUEST', `all "${raw.slice(0, 40)}" is not 1 or 0`, { hint: '?all=1 includes expired silences' });
}

function silenceDuration(raw: string): number {
  const parsed = parseDuration(raw);
  if (!parsed.ok || parsed.value <= 0) {
    throw new BulwarkError('BAD_REQUEST', `duration "${raw}" is not a duration`, { hint: 'e.g. "30m", "2h" or "1d" (at most 30 days)' });
  }
  if (parsed.value > MAX_SILENCE_MS) {
    throw new BulwarkError('BAD_REQUEST', `duration "${raw}" is longer than 30 days`, { hint: 'a silence is for a known, bounded window; for longer, change the rules in bulwark.yaml' });
  }
  return parsed.value;
}

/** The JSON body; an empty body is `{}` when the route has nothing required. */
async function readJson(c: Context, required: boolean): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '' && !required) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BulwarkError('BAD_REQUEST', text.trim() === '' ? 'expected a JSON body' : 'the request body is not valid JSON', { hint: 'send Content-Type: application/json with a JSON object' });
  }
}

function parseBody<T>(schema: z.ZodType<T>, value: unknown, hint: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new BulwarkError('BAD_REQUEST', `invalid request body${where}: ${issue?.message ?? 'expected a JSON object'}`, { hint });
}

function tooLarge(): never {
  throw new BulwarkError('BAD_REQUEST', `request body larger than ${MAX_BODY / 1024} KiB`);
}
