import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { BulwarkError } from '../../core/errors.js';
import { NAME_PATTERN } from '../../core/names.js';
import type { CheckSpec, ProbeEngine } from '../../probes/index.js';

const FAILURE_REASONS = ['timeout', 'refused', 'dns', 'tls', 'status', 'condition', 'body_too_large', 'protocol', 'reset', 'auth', 'exit_code', 'error'] as const;
const agentName = z.string().regex(NAME_PATTERN, { message: 'expected an agent name of letters, digits, "_", "." or "-"' });

const heartbeatBody = z.strictObject({ name: agentName, zone: agentName.optional() });
const resultsBody = z.strictObject({
  name: agentName,
  zone: agentName.optional(),
  results: z.array(z.strictObject({
    target: z.string().max(300),
    at: z.number().int().positive(),
    ok: z.boolean(),
    durationMs: z.number().min(0).max(3_600_000),
    reason: z.enum(FAILURE_REASONS).optional(),
    message: z.string().max(1000).optional(),
  })).max(20_000),
});

/** Clock skew between an agent and the control plane that we accept before using our own time. */
const MAX_SKEW_MS = 60_000;

export function probeRoutes(engine: ProbeEngine): Hono {
  const app = new Hono();
  app.get('/probes', (c) => c.json({ vantage: engine.vantage, targets: engine.targetViews(), owners: engine.ownerViews(), agents: engine.agentViews() }));

  app.post('/agents/heartbeat', bodyLimit({ maxSize: 64 * 1024, onError: tooLarge }), async (c) => {
    const body = parse(heartbeatBody, await c.req.json().catch(() => undefined));
    engine.agents.heartbeat(body.name, body.zone);
    const assignments = engine.assignmentsFor(body.name).map((t) => ({ id: t.id, check: wireCheck(t.check), intervalMs: t.intervalMs, timeoutMs: t.timeoutMs }));
    return c.json({ agent: body.name, assignments });
  });

  app.post('/agents/results', bodyLimit({ maxSize: 8 * 1024 * 1024, onError: tooLarge }), async (c) => {
    const body = parse(resultsBody, await c.req.json().catch(() => undefined));
    engine.agents.heartbeat(body.name, body.zone);
    const now = Date.now();
    for (const r of body.results) {
      const at = Math.abs(r.at - now) > MAX_SKEW_MS ? now : r.at;
      engine.ingest(body.name, r.target, { ok: r.ok, durationMs: r.durationMs, reason: r.reason, message: r.message, observations: {} }, at);
    }
    return c.json({ accepted: body.results.length }, 202);
  });
  return app;
}

/** Conditions go to agents as the text the user wrote: a parsed regex does not survive JSON. */
function wireCheck(check: CheckSpec): unknown {
  const spec = check.spec as { conditions?: ReadonlyArray<{ text: string }> };
  if (!spec.conditions) return check;
  return { ...check, spec: { ...spec, conditions: spec.conditions.map((c) => c.text) } };
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
  throw new BulwarkError('BAD_REQUEST', `invalid request body${where}: ${issue?.message ?? 'expected JSON'}`);
}

function tooLarge(): never {
  throw new BulwarkError('BAD_REQUEST', 'request body too large');
}
