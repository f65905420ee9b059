import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Command } from 'commander';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Incident, IncidentActions } from '../../alerting/types.js';
import { errorBody, statusOf } from '../../api/errors.js';
import { incidentRoutes } from '../../api/index.js';
import { BulwarkError } from '../../core/errors.js';
import { registerStatus } from './status.js';

const NOW = Date.now();

function incident(id: number, o: Partial<Incident> = {}): Incident {
  return {
    id, key: `api:service_down:${id}`, rule: 'api:service_down', severity: 'critical', title: `api is down (${id})`, state: 'triggered', policy: 'critical',
    labels: { service: 'api' }, alerts: ['service/api'], openedAt: NOW - 2 * 3_600_000 - 13 * 60_000, acknowledgedAt: null, acknowledgedBy: null,
    resolvedAt: null, resolvedBy: null, owner: null, nextLevel: 1, cycle: 0, nextAt: null, clearSince: null, flapping: false,
    rootCause: null, resolution: null, reminderAt: null, updatedAt: NOW, ...o,
  };
}

let open: Incident[] = [];
let listing: 'ok' | 'not-ready' = 'ok';
const queries: string[] = [];

const actions = {
  list: async ({ states }: { states?: string[] }) => {
    if (listing === 'not-ready') throw new BulwarkError('NOT_READY', 'alerting has not started yet');
    return open.filter((i) => !states || states.includes(i.state));
  },
} as unknown as IncidentActions;

let server: Server;
let url = '';

beforeAll(async () => {
  const app = new Hono();
  app.use('*', async (c, next) => {
    queries.push(c.req.path + new URL(c.req.url).search);
    await next();
  });
  app.get('/api/v1/services', (c) => c.json({
    services: [{ kind: 'service', name: 'api', tier: 'enterprise', target: 0.9999, windows: null, computedAt: NOW, status: 'up', members: [] }],
    agents: [],
  }));
  app.get('/api/v1/gateway', (c) => c.json({ services: {} }));
  app.route('/api/v1', incidentRoutes(actions));
  app.onError((err, c) => c.json(errorBody(err), statusOf(err)));
  server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  queries.length = 0;
  listing = 'ok';
  open = [
    incident(2, { state: 'acknowledged', severity: 'warning', title: 'backup of main-db failed', openedAt: NOW - 3 * 86_400_000 - 4 * 3_600_000 }),
    incident(1),
    incident(0, { state: 'resolved' }),
  ];
});

async function run(...args: string[]): Promise<string> {
  const program = new Command('bulwark').exitOverride();
  registerStatus(program);
  let out = '';
  const exitCode = process.exitCode;
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'bulwark', 'status', ...args, '--url', url, '--token', 'bwk_test'], { from: 'node' });
    return out;
  } finally {
    write.mockRestore();
    process.exitCode = exitCode;
  }
}

describe('bulwark status: open incidents', () => {
  it('lists triggered and acknowledged incidents with severity, state, age and title', async () => {
    const out = await run();
    expect(queries).toContain('/api/v1/incidents?state=triggered,acknowledged&limit=1000');
    expect(out).toMatch(/^Open incidents$/m);
    expect(out).toMatch(/^ {2}ID +SEVERITY +STATE +AGE +TITLE$/m);
    expect(out).toMatch(/^ {2}2 +warning +ACKNOWLEDGED +3d4h +backup of main-db failed$/m);
    expect(out).toMatch(/^ {2}1 +critical +TRIGGERED +2h13m +api is down \(1\)$/m);
    expect(out).not.toContain('RESOLVED');
  });

  it('--json carries them beside the services', async () => {
    const json = JSON.parse(await run('--json')) as { services: unknown[]; incidents: Array<{ id: number; state: string; ageMs: number; title: string }> };
    expect(json.services).toHaveLength(1);
    expect(json.incidents.map((i) => [i.id, i.state])).toEqual([[2, 'acknowledged'], [1, 'triggered']]);
    expect(json.incidents[1]!.ageMs).toBeGreaterThanOrEqual(2 * 3_600_000 + 13 * 60_000);
  });

  it('says none, and says so when alerting cannot answer yet rather than failing the status', async () => {
    open = [];
    expect(await run()).toMatch(/^Open incidents: none$/m);
    listing = 'not-ready';
    const out = await run();
    expect(out).toMatch(/^api +UP/m);
    expect(out).toMatch(/^Open incidents: unknown \(API answered 503: alerting has not started yet\)$/m);
    expect((JSON.parse(await run('--json')) as { incidentsError?: string }).incidentsError).toContain('not started');
  });
});
