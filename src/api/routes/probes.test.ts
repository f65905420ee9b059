import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../config/index.js';
import { silentLogger } from '../../core/logger.js';
import { EventBus } from '../../events/index.js';
import { ProbeEngine, type ProbeEvents } from '../../probes/index.js';
import { Hono } from 'hono';
import { errorBody, statusOf } from '../errors.js';
import { probeRoutes } from './probes.js';

const engines: ProbeEngine[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop(AbortSignal.abort());
});

function setup() {
  const yaml = `services:
  api:
    endpoints: [ { url: "http://127.0.0.1:1", name: a } ]
    health_check: { interval: 1h, quorum: 2, conditions: ['body.state matches "^heal"', 'status == 200'] }
`;
  const loaded = parseConfigText(yaml, 't.yaml', { lint: false });
  if (!loaded.config) throw new Error('bad test config');
  const engine = new ProbeEngine({ config: loaded.config, log: silentLogger(), bus: new EventBus<ProbeEvents>(), history: { recordProbeResults: async () => undefined, recordStateChange: async () => undefined }, registry: new Registry() });
  engines.push(engine);
  // Mounted as the API mounts it: errors mapped in the one place that maps them.
  const app = new Hono();
  app.route('/', probeRoutes(engine));
  app.onError((err, c) => c.json(errorBody(err), statusOf(err)));
  return { engine, app };
}

const post = (app: Hono, path: string, body: unknown) =>
  app.request(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('agent routes', () => {
  it('sends assignments with conditions as the text the user wrote', async () => {
    const { engine, app } = setup();
    await engine.start();
    const res = await post(app, '/agents/heartbeat', { name: 'agent-1', zone: 'z1' });
    expect(res.status).toBe(200);
    const body = await res.json() as { assignments: Array<{ id: string; check: { spec: { conditions: unknown[] } } }> };
    expect(body.assignments).toHaveLength(1);
    expect(body.assignments[0]?.check.spec.conditions).toEqual(['body.state matches "^heal"', 'status == 200']);
    expect(engine.agentViews()).toMatchObject([{ name: 'agent-1', zone: 'z1', reporting: true }]);
  });

  it('takes results from an agent into the target state, and ignores unknown targets', async () => {
    const { engine, app } = setup();
    await engine.start();
    const at = Date.now();
    const results = [0, 1].map((i) => ({ target: 'service/api/a', at: at + i, ok: false, durationMs: 5, reason: 'refused' }));
    const res = await post(app, '/agents/results', { name: 'agent-1', results: [...results, { target: 'nope', at, ok: true, durationMs: 1 }] });
    expect(res.status).toBe(202);
    const view = engine.targetViews()[0]?.vantages.find((v) => v.vantage === 'agent-1');
    expect(view).toMatchObject({ status: 'unknown', consecutiveFail: 2, reporting: true });
  });

  it('answers bad input with 400-class errors that say what is wrong', async () => {
    const { app } = setup();
    const cases: Array<[string, unknown, string]> = [
      ['/agents/heartbeat', 'not json', 'expected'],
      ['/agents/heartbeat', { name: 'bad name!' }, 'agent name'],
      ['/agents/results', { name: 'a', results: [{ target: 'x', at: 1, ok: 'yes', durationMs: 1 }] }, 'results.0.ok'],
      ['/agents/results', { name: 'a', results: [{ target: 'x', at: 1, ok: true, durationMs: 1, reason: 'bogus' }] }, 'results.0.reason'],
    ];
    for (const [path, body, text] of cases) {
      const res = await post(app, path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(await res.json().catch(() => ({})))).toContain(text);
    }
  });
});
