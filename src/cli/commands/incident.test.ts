import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Command } from 'commander';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Incident, IncidentActions, SilenceRecord } from '../../alerting/types.js';
import { errorBody, statusOf } from '../../api/errors.js';
import { incidentRoutes } from '../../api/index.js';
import { BulwarkError } from '../../core/errors.js';
import { registerIncident } from './incident.js';
import { registerSilence } from './silence.js';

const NOW = Date.now();

function incident(id: number, o: Partial<Incident> = {}): Incident {
  return {
    id, key: `k${id}`, rule: 'api:service_down', severity: 'critical', title: `api is down (${id})`, state: 'triggered', policy: 'critical',
    labels: { service: 'api' }, alerts: ['service/api'], openedAt: NOW - 2 * 3_600_000 - 13 * 60_000, acknowledgedAt: null, acknowledgedBy: null,
    resolvedAt: null, resolvedBy: null, owner: null, nextLevel: 0, cycle: 0, nextAt: null, clearSince: null, flapping: false,
    rootCause: null, resolution: null, reminderAt: null, updatedAt: NOW, ...o,
  };
}

const requests: Array<{ method: string; path: string; body: string; auth: string | undefined }> = [];
const incidents = new Map<number, Incident>();
const silences: SilenceRecord[] = [];

const notFound = (id: number) => new BulwarkError('NOT_FOUND', `no incident ${id}`);
function update(id: number, patch: Partial<Incident>): Incident {
  const found = incidents.get(id);
  if (!found) throw notFound(id);
  const next = { ...found, ...patch };
  incidents.set(id, next);
  return next;
}

/** Just enough of the engine for the CLI: the routes in front of it are the real ones. */
const actions: IncidentActions = {
  list: async ({ states, limit }) => [...incidents.values()].filter((i) => !states || states.includes(i.state)).slice(0, limit),
  detail: async (id) => {
    const found = incidents.get(id);
    if (!found) throw notFound(id);
    return {
      incident: found, vars: {},
      timeline: [{ id: 1, incidentId: id, kind: 'opened', actor: 'bulwark', at: found.openedAt, data: { alerts: 1 } }, { id: 2, incidentId: id, kind: 'note', actor: 'alice', at: found.openedAt + 60_000, data: { text: 'looking' } }],
      notifications: [{ id: 7, channel: 'oncall-mail', kind: 'trigger', state: 'pending', attempts: 3, createdAt: found.openedAt, deliveredAt: null, lastError: 'SMTP 451 try later', to: ['ops@example.com'] }],
    };
  },
  acknowledge: async (id, actor) => update(id, { state: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: NOW }),
  resolve: async (id, actor, details) => update(id, { state: 'resolved', resolvedBy: actor, resolvedAt: NOW, rootCause: details?.rootCause ?? null }),
  note: async (id) => update(id, {}),
  assign: async (id, _actor, owner) => update(id, { owner }),
  declare: async (request) => update(request.incidentId ?? 1, {}),
  verifyLink: async () => undefined,
  addSilence: async (input) => {
    const startsAt = input.startsAt ?? NOW;
    const silence = { id: silences.length + 1, matchers: input.matchers, startsAt, endsAt: startsAt + input.durationMs, createdBy: input.createdBy, comment: input.comment, createdAt: NOW, expiredAt: null, expiredBy: null };
    silences.push(silence);
    return silence;
  },
  listSilences: async (all) => silences.filter((s) => all || s.expiredAt === null),
  expireSilence: async (id, actor) => {
    const found = silences.find((s) => s.id === id && s.expiredAt === null);
    if (!found) throw new BulwarkError('NOT_FOUND', `no active silence ${id}`);
    return Object.assign(found, { expiredAt: NOW, expiredBy: actor });
  },
};

let server: Server;
let url: string;

beforeAll(async () => {
  const app = new Hono();
  app.use('*', async (c, next) => {
    requests.push({ method: c.req.method, path: c.req.path + (new URL(c.req.url).search), body: await c.req.raw.clone().text(), auth: c.req.header('authorization') });
    c.set('tokenName', 'alice');
    await next();
  });
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
  requests.length = 0;
  silences.length = 0;
  incidents.clear();
  incidents.set(1, incident(1, { title: 'api is down (all 3 endpoints failing)' }));
  incidents.set(2, incident(2, { state: 'acknowledged', severity: 'warning', owner: 'bob', openedAt: NOW - 3 * 86_400_000 - 4 * 3_600_000 }));
  incidents.set(3, incident(3, { state: 'resolved' }));
});

/** Runs `bulwark ARGS` in-process; what it printed, or the error it ended with. */
async function run(...args: string[]): Promise<{ out: string; error?: BulwarkError }> {
  const program = new Command('bulwark').exitOverride();
  registerIncident(program);
  registerSilence(program);
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'bulwark', ...args, '--url', url, '--token', 'bwk_test'], { from: 'node' });
    return { out };
  } catch (err) {
    if (err instanceof BulwarkError) return { out, error: err };
    throw err;
  } finally {
    write.mockRestore();
  }
}

describe('bulwark incident', () => {
  it('ls shows open incidents as a table; --all adds resolved ones; --json feeds scripts', async () => {
    const { out } = await run('incident', 'ls');
    expect(requests[0]).toMatchObject({ method: 'GET', path: '/api/v1/incidents?limit=100&state=triggered,acknowledged', auth: 'Bearer bwk_test' });
    expect(out).toMatch(/^ID +STATE +SEVERITY +AGE +TITLE +OWNER$/m);
    expect(out).toMatch(/^1 +TRIGGERED +critical +2h13m +api is down \(all 3 endpoints failing\) +-$/m);
    expect(out).toMatch(/^2 +ACKNOWLEDGED +warning +3d4h +api is down \(2\) +bob$/m);
    expect(out).not.toContain('RESOLVED');
    expect((await run('incident', 'ls', '--all')).out).toContain('RESOLVED');
    const json = JSON.parse((await run('incident', 'ls', '--json')).out) as { incidents: Incident[] };
    expect(json.incidents.map((i) => i.id)).toEqual([1, 2]);
  });

  it('show prints fields, the timeline and each notification with its state, attempts and last error', async () => {
    const { out } = await run('incident', 'show', '1');
    expect(out).toContain('Incident 1: api is down (all 3 endpoints failing)');
    expect(out).toMatch(/^ {2}state: +TRIGGERED$/m);
    expect(out).toMatch(/note +alice: text=looking$/m);
    expect(out).toMatch(/^ {2}7 +oncall-mail → ops@example\.com +trigger +pending +3 +\S+ +- +SMTP 451 try later$/m);
    expect((await run('incident', 'show', '42')).error?.code).toBe('NOT_FOUND');
  });

  it('ack, resolve, note and assign send what they should and say what happened', async () => {
    expect((await run('incident', 'ack', '1')).out).toMatch(/^incident 1 acknowledged by alice at /);
    expect((await run('incident', 'resolve', '1', '--root-cause', 'disk full')).out).toMatch(/^incident 1 resolved by alice/);
    expect(requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/v1/incidents/1/resolve', body: '{"root_cause":"disk full"}' });
    expect((await run('incident', 'note', '2', 'rolling back')).out).toBe('note added to incident 2\n');
    expect(requests.at(-1)).toMatchObject({ path: '/api/v1/incidents/2/notes', body: '{"text":"rolling back","public":false}' });
    expect((await run('incident', 'assign', '2', 'carol')).out).toBe('incident 2 is owned by carol\n');
  });

  it('a bad ID is a usage error (exit 2) before any request', async () => {
    for (const args of [['show', 'abc'], ['ack', '0'], ['resolve', '-3'], ['note', '1.5', 'x'], ['assign', '', 'bob']]) {
      const { error } = await run('incident', ...args);
      expect(error?.code).toBe('USAGE');
      expect(error?.message).toMatch(/incident ID must be a positive whole number/);
    }
    expect((await run('silence', 'rm', 'x')).error?.message).toMatch(/silence ID must be a positive whole number/);
    expect(requests).toEqual([]);
  });
});

describe('bulwark silence', () => {
  it('add, ls and rm', async () => {
    const added = await run('silence', 'add', '--match', 'service=api', '--match', 'zone=us-east-1a', '--duration', '2h', '--comment', 'deploy');
    expect(added.out).toMatch(/^silence 1 added: service=api zone=us-east-1a from \S+ until \S+$/m);
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual({ matchers: { service: 'api', zone: 'us-east-1a' }, duration: '2h', comment: 'deploy' });
    expect((await run('silence', 'ls')).out).toMatch(/^1 +active +service=api zone=us-east-1a +\S+ +\S+ +alice +deploy$/m);
    expect((await run('silence', 'rm', '1')).out).toBe('silence 1 ended (service=api zone=us-east-1a)\n');
    expect((await run('silence', 'ls')).out).toBe('no silences\n');
    expect((await run('silence', 'ls', '--all', '--json')).out).toContain('"expiredBy": "alice"');
    expect((await run('silence', 'rm', '1')).error?.code).toBe('NOT_FOUND');
  });

  it('refuses a malformed --match or --duration before any request', async () => {
    const base = ['silence', 'add', '--comment', 'x'];
    expect((await run(...base, '--match', 'service', '--duration', '2h')).error?.message).toMatch(/--match must be label=value/);
    expect((await run(...base, '--match', 'Service=api', '--duration', '2h')).error?.code).toBe('USAGE');
    expect((await run(...base, '--match', 'service=api', '--duration', '31d')).error?.message).toMatch(/--duration/);
    expect((await run(...base, '--match', 'service=api', '--duration', '1h', '--starts-at', 'soon')).error?.message).toMatch(/--starts-at/);
    expect(requests).toEqual([]);
  });
});
