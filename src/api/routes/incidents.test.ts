import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeclareRequest, Incident, IncidentActions, IncidentDetail, LinkAction, SilenceRecord } from '../../alerting/index.js';
import { generateToken } from '../../auth/index.js';
import { BulwarkError } from '../../core/errors.js';
import { silentLogger } from '../../core/logger.js';
import { createMetricsRegistry, registerCoreMetrics } from '../../metrics/index.js';
import { openSqliteStore, type Store } from '../../store/index.js';
import { createApiApp } from '../app.js';
import { incidentLinkRoutes } from './incident-links.js';
import { incidentRoutes } from './incidents.js';

const GOOD_SIG = 'good-signature';

function incident(id: number, o: Partial<Incident> = {}): Incident {
  return {
    id, key: `api:service_down:${id}`, rule: 'api:service_down', severity: 'critical', title: `api is down (${id})`, state: 'triggered',
    policy: 'critical', labels: { service: 'api' }, alerts: ['service/api'], openedAt: 1_700_000_000_000, acknowledgedAt: null, acknowledgedBy: null,
    resolvedAt: null, resolvedBy: null, owner: null, nextLevel: 0, cycle: 0, nextAt: null, clearSince: null, flapping: false,
    rootCause: null, resolution: null, reminderAt: null, updatedAt: 1_700_000_000_000, ...o,
  };
}

/** An in-memory IncidentActions that records every call, following the contract's rules. */
class FakeActions implements IncidentActions {
  readonly incidents = new Map<number, Incident>();
  readonly silences: SilenceRecord[] = [];
  readonly calls: Array<{ op: string; args: unknown[] }> = [];

  async list(query: { states?: Incident['state'][]; limit: number }): Promise<Incident[]> {
    this.calls.push({ op: 'list', args: [query] });
    return [...this.incidents.values()].filter((i) => !query.states || query.states.includes(i.state)).slice(0, query.limit);
  }
  async detail(id: number): Promise<IncidentDetail> {
    const found = this.get(id);
    return { incident: found, timeline: [{ id: 1, incidentId: id, kind: 'opened', actor: 'bulwark', at: found.openedAt }], notifications: [], vars: { service: 'api' } };
  }
  async acknowledge(id: number, actor: string): Promise<Incident> {
    this.calls.push({ op: 'acknowledge', args: [id, actor] });
    const found = this.get(id);
    if (found.state === 'resolved') throw new BulwarkError('BAD_REQUEST', `incident ${id} is resolved`);
    if (found.state === 'acknowledged') return found;
    return this.patch(id, { state: 'acknowledged', acknowledgedBy: actor, acknowledgedAt: 1_700_000_060_000 });
  }
  async resolve(id: number, actor: string, details?: { rootCause?: string; resolution?: string }): Promise<Incident> {
    this.calls.push({ op: 'resolve', args: [id, actor, details] });
    if (this.get(id).state === 'resolved') throw new BulwarkError('BAD_REQUEST', `incident ${id} is resolved`);
    return this.patch(id, { state: 'resolved', resolvedBy: actor, resolvedAt: 1_700_000_120_000, rootCause: details?.rootCause ?? null, resolution: details?.resolution ?? null });
  }
  async note(id: number, actor: string, text: string): Promise<Incident> {
    this.calls.push({ op: 'note', args: [id, actor, text] });
    return this.get(id);
  }
  async declare(request: DeclareRequest, actor: string): Promise<Incident> {
    this.calls.push({ op: 'declare', args: [request, actor] });
    return this.get(request.incidentId ?? 1);
  }
  async assign(id: number, actor: string, owner: string): Promise<Incident> {
    this.calls.push({ op: 'assign', args: [id, actor, owner] });
    return this.patch(id, { owner });
  }
  async verifyLink(params: { id: number; action: LinkAction; actor: string; expires: number; signature: string }): Promise<void> {
    this.calls.push({ op: 'verifyLink', args: [params] });
    if (params.signature !== GOOD_SIG || params.expires < Date.now()) throw new BulwarkError('AUTH_INVALID', 'bad link');
  }
  async addSilence(input: { matchers: Record<string, string>; durationMs: number; createdBy: string; comment: string; startsAt?: number }): Promise<SilenceRecord> {
    this.calls.push({ op: 'addSilence', args: [input] });
    const startsAt = input.startsAt ?? Date.now();
    const silence: SilenceRecord = { id: this.silences.length + 1, matchers: input.matchers, startsAt, endsAt: startsAt + input.durationMs, createdBy: input.createdBy, comment: input.comment, createdAt: Date.now(), expiredAt: null, expiredBy: null };
    this.silences.push(silence);
    return silence;
  }
  async listSilences(includeExpired: boolean): Promise<SilenceRecord[]> {
    return this.silences.filter((s) => includeExpired || s.expiredAt === null);
  }
  async expireSilence(id: number, actor: string): Promise<SilenceRecord> {
    const found = this.silences.find((s) => s.id === id && s.expiredAt === null);
    if (!found) throw new BulwarkError('NOT_FOUND', `no active silence ${id}`);
    Object.assign(found, { expiredAt: Date.now(), expiredBy: actor });
    return found;
  }
  private get(id: number): Incident {
    const found = this.incidents.get(id);
    if (!found) throw new BulwarkError('NOT_FOUND', `no incident ${id}`);
    return found;
  }
  private patch(id: number, patch: Partial<Incident>): Incident {
    const next = { ...this.get(id), ...patch };
    this.incidents.set(id, next);
    return next;
  }
}

let dir: string;
let store: Store;
let app: Hono;
let token: string;
let actions: FakeActions;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bulwark-incidents-'));
  store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  await store.migrate();
  const generated = generateToken();
  await store.createToken({ name: 'alice', hash: generated.hash, prefix: generated.prefix });
  token = generated.token;
  actions = new FakeActions();
  actions.incidents.set(1, incident(1));
  actions.incidents.set(2, incident(2, { state: 'acknowledged', acknowledgedBy: 'bob', acknowledgedAt: 1_700_000_030_000 }));
  actions.incidents.set(3, incident(3, { state: 'resolved', resolvedBy: 'bulwark', resolvedAt: 1_700_000_090_000 }));
  const registry: Registry = createMetricsRegistry('test');
  app = createApiApp({
    store, registry, metrics: registerCoreMetrics(registry), log: silentLogger(), isReady: () => true,
    currentConfig: () => ({ file: 'x', checksum: 'x', appliedAt: 'x', config: {} }), status: () => ({}),
    routes: [{ path: '/', app: incidentRoutes(actions) }],
    publicRoutes: [{ path: '/links', app: incidentLinkRoutes(actions) }],
  });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function api(method: string, path: string, body?: unknown, auth = true): Promise<Response> {
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${token}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  return Promise.resolve(app.request(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) }));
}

async function badRequest(res: Response): Promise<{ message: string; hint?: string }> {
  expect(res.status).toBe(400);
  const body = (await res.json()) as { error: { code: string; message: string; hint?: string } };
  expect(body.error.code).toBe('BAD_REQUEST');
  return body.error;
}

describe('incident routes', () => {
  it('require a token', async () => {
    for (const [method, path] of [['GET', '/incidents'], ['GET', '/incidents/1'], ['POST', '/incidents/1/ack'], ['GET', '/silences'], ['POST', '/silences'], ['DELETE', '/silences/1']] as const) {
      expect((await api(method, path, undefined, false)).status).toBe(401);
    }
    expect(actions.calls).toEqual([]);
  });

  it('list incidents filtered by state, bounded by limit; bad filters are 400', async () => {
    const open = (await (await api('GET', '/incidents?state=triggered,acknowledged&limit=10')).json()) as { incidents: Incident[] };
    expect(open.incidents.map((i) => i.id)).toEqual([1, 2]);
    expect(actions.calls.at(-1)).toEqual({ op: 'list', args: [{ states: ['triggered', 'acknowledged'], limit: 10 }] });
    const all = (await (await api('GET', '/incidents?limit=5000')).json()) as { incidents: Incident[] };
    expect(all.incidents).toHaveLength(3);
    expect(actions.calls.at(-1)).toEqual({ op: 'list', args: [{ states: undefined, limit: 1000 }] });
    expect((await badRequest(await api('GET', '/incidents?state=open'))).message).toContain('"open" is not one of triggered, acknowledged, resolved');
    await badRequest(await api('GET', '/incidents?limit=0'));
    await badRequest(await api('GET', '/incidents?limit=ten'));
  });

  it('show one incident; unknown is 404, a bad id 400', async () => {
    const detail = (await (await api('GET', '/incidents/1')).json()) as IncidentDetail;
    expect(detail.incident.title).toBe('api is down (1)');
    expect(detail.timeline[0]?.kind).toBe('opened');
    expect((await api('GET', '/incidents/99')).status).toBe(404);
    for (const bad of ['0', '-1', 'abc', '1.5', '99999999999999999999']) {
      expect((await badRequest(await api('GET', `/incidents/${bad}`))).message).toMatch(/is not a positive whole number/);
    }
  });

  it('declare a disaster as the token; a missing message or unknown field is 400 with the shape to send', async () => {
    const res = await api('POST', '/incidents/declare', { key: 'region-loss', title: 'Region lost', message: 'We are on it.', components: ['api'], notify: ['oncall'], incident_id: 2 });
    expect(res.status).toBe(201);
    expect(actions.calls.at(-1)).toEqual({
      op: 'declare',
      args: [{ key: 'region-loss', title: 'Region lost', severity: 'critical', message: 'We are on it.', components: ['api'], notify: ['oncall'], incidentId: 2 }, 'alice'],
    });
    const missing = await badRequest(await api('POST', '/incidents/declare', { key: 'k', title: 't' }));
    expect(missing.message).toBe('invalid request body at message: Invalid input: expected string, received undefined');
    expect(missing.hint).toMatch(/"message": "public update"/);
    await badRequest(await api('POST', '/incidents/declare', { key: 'k', title: 't', message: 'm', public: true }));
    await badRequest(await api('POST', '/incidents/declare', { key: 'has space', title: 't', message: 'm' }));
  });

  it('acknowledge, resolve, note and assign act as the token', async () => {
    expect(((await (await api('POST', '/incidents/1/ack')).json()) as { incident: Incident }).incident).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'alice' });
    const resolved = await api('POST', '/incidents/1/resolve', { root_cause: 'disk full', resolution: 'grew the volume' });
    expect(((await resolved.json()) as { incident: Incident }).incident).toMatchObject({ state: 'resolved', resolvedBy: 'alice', rootCause: 'disk full' });
    expect((await api('POST', '/incidents/2/resolve')).status).toBe(200);
    expect(actions.calls.find((c) => c.op === 'resolve' && c.args[0] === 2)?.args).toEqual([2, 'alice', { rootCause: undefined, resolution: undefined }]);
    expect((await api('POST', '/incidents/1/notes', { text: '  rolling back  ' })).status).toBe(200);
    expect((await api('POST', '/incidents/1/assign', { owner: 'carol' })).status).toBe(200);
    expect(actions.calls.filter((c) => c.op === 'note' || c.op === 'assign').map((c) => c.args)).toEqual([[1, 'alice', 'rolling back'], [1, 'alice', 'carol']]);
    expect((await api('POST', '/incidents/1/ack')).status).toBe(400);
    expect((await api('POST', '/incidents/42/ack')).status).toBe(404);
  });

  it('refuse bad bodies with a message and a hint', async () => {
    expect((await badRequest(await api('POST', '/incidents/1/notes', { text: '' }))).message).toContain('text must not be empty');
    await badRequest(await api('POST', '/incidents/1/notes', { text: 'x'.repeat(4001) }));
    await badRequest(await api('POST', '/incidents/1/notes'));
    await badRequest(await api('POST', '/incidents/1/notes', '{not json'));
    const unknown = await badRequest(await api('POST', '/incidents/1/resolve', { rootCause: 'typo in the field name' }));
    expect(unknown.hint).toContain('root_cause');
    await badRequest(await api('POST', '/incidents/1/assign', { owner: 'a\nb' }));
    await badRequest(await api('POST', '/incidents/1/assign', {}));
    expect((await badRequest(await api('POST', '/incidents/1/notes', { text: 'x'.repeat(70 * 1024) }))).message).toContain('larger than 64 KiB');
    expect(actions.calls.filter((c) => c.op !== 'list')).toEqual([]);
  });
});

describe('silence routes', () => {
  const good = { matchers: { service: 'api' }, duration: '2h', comment: 'deploying' };

  it('add a silence (201), list it, expire it', async () => {
    const created = await api('POST', '/silences', good);
    expect(created.status).toBe(201);
    const { silence } = (await created.json()) as { silence: SilenceRecord };
    expect(silence).toMatchObject({ id: 1, matchers: { service: 'api' }, createdBy: 'alice', comment: 'deploying' });
    expect(silence.endsAt - silence.startsAt).toBe(7_200_000);
    const startsAt = new Date(Date.now() + 3_600_000).toISOString();
    expect((await api('POST', '/silences', { ...good, starts_at: startsAt })).status).toBe(201);
    expect((actions.calls.at(-1)?.args[0] as { startsAt: number }).startsAt).toBe(Date.parse(startsAt));

    expect(((await (await api('GET', '/silences')).json()) as { silences: unknown[] }).silences).toHaveLength(2);
    const removed = (await (await api('DELETE', '/silences/1')).json()) as { silence: SilenceRecord };
    expect(removed.silence).toMatchObject({ id: 1, expiredBy: 'alice' });
    expect(((await (await api('GET', '/silences')).json()) as { silences: unknown[] }).silences).toHaveLength(1);
    expect(((await (await api('GET', '/silences?all=1')).json()) as { silences: unknown[] }).silences).toHaveLength(2);
    expect((await api('DELETE', '/silences/1')).status).toBe(404);
    await badRequest(await api('DELETE', '/silences/x'));
    await badRequest(await api('GET', '/silences?all=yes'));
  });

  it('refuse bad silences', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good, matchers: {} }, /at least one matcher/],
      [{ ...good, matchers: { Service: 'api' } }, /\[a-z_\]\+/],
      [{ ...good, matchers: { service: 'x'.repeat(201) } }, /longer than 200/],
      [{ ...good, duration: 'soon' }, /duration "soon" is not a duration/],
      [{ ...good, duration: '31d' }, /longer than 30 days/],
      [{ ...good, duration: '0' }, /is not a duration/],
      [{ ...good, comment: '' }, /comment is required/],
      [{ ...good, comment: 'x'.repeat(1001) }, /longer than 1000/],
      [{ matchers: good.matchers, duration: '2h' }, /comment/],
      [{ ...good, starts_at: 'tomorrow' }, /starts_at/],
      [{ ...good, starts_at: '2020-01-01T00:00:00Z' }, /already ended/],
    ];
    for (const [body, message] of cases) expect((await badRequest(await api('POST', '/silences', body))).message).toMatch(message);
    expect(actions.silences).toEqual([]);
  });
});

describe('signed incident links', () => {
  const params = (o: Record<string, string> = {}) => new URLSearchParams({ actor: 'oncall@example.com', expires: String(Date.now() + 60_000), sig: GOOD_SIG, ...o });

  it('GET asks and changes nothing; it needs no token and sets the protective headers', async () => {
    const res = await app.request(`/links/incidents/1/acknowledge?${params()}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const page = await res.text();
    expect(page).toContain('Acknowledge incident #1?');
    expect(page).toContain('<form method="post">');
    expect(page).toContain(`name="sig" value="${GOOD_SIG}"`);
    expect(actions.calls.map((c) => c.op)).toEqual(['verifyLink']);
    expect(actions.incidents.get(1)?.state).toBe('triggered');
  });

  it('POST acts as link:<actor> and says who and when', async () => {
    const res = await app.request('/links/incidents/1/acknowledge', { method: 'POST', body: params() });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Acknowledged by link:oncall@example.com at 2023-11-14 22:14:20 UTC');
    expect(actions.calls.find((c) => c.op === 'acknowledge')?.args).toEqual([1, 'link:oncall@example.com']);
    const resolved = await app.request('/links/incidents/1/resolve', { method: 'POST', body: params() });
    expect(await resolved.text()).toContain('Resolved by link:oncall@example.com');
  });

  it('an already resolved incident is a kind 409, and its GET offers no button', async () => {
    const res = await app.request('/links/incidents/3/resolve', { method: 'POST', body: params() });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('already resolved');
    expect(await (await app.request(`/links/incidents/3/acknowledge?${params()}`)).text()).not.toContain('<form');
    expect(actions.calls.some((c) => c.op === 'resolve' || c.op === 'acknowledge')).toBe(false);
  });

  it('a bad signature, an expired or malformed link is a 403 page pointing at the CLI', async () => {
    for (const request of [
      app.request(`/links/incidents/1/acknowledge?${params({ sig: 'forged' })}`),
      app.request(`/links/incidents/1/acknowledge?${params({ expires: String(Date.now() - 1) })}`),
      app.request('/links/incidents/1/acknowledge', { method: 'POST', body: params({ sig: 'forged' }) }),
      app.request(`/links/incidents/1/delete?${params()}`),
      app.request('/links/incidents/1/resolve?actor=x'),
    ]) {
      const res = await request;
      expect(res.status).toBe(403);
      expect(res.headers.get('content-type')).toContain('text/html');
      const page = await res.text();
      expect(page).toContain('This link is invalid or has expired');
      expect(page).toContain('bulwark incident ack 1');
    }
    expect(actions.incidents.get(1)?.state).toBe('triggered');
  });

  it('an unknown incident with a valid link is a 404 page', async () => {
    expect((await app.request(`/links/incidents/77/acknowledge?${params()}`)).status).toBe(404);
  });

  it('escapes every value it shows', async () => {
    actions.incidents.set(5, incident(5, { title: '<script>alert(1)</script> & "more"' }));
    const page = await (await app.request(`/links/incidents/5/resolve?${params({ actor: '"><img src=x>' })}`)).text();
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;');
    expect(page).toContain('value="&quot;&gt;&lt;img src=x&gt;"');
  });
});
