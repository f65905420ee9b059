import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { EndpointPool } from '../../gateway/index.js';
import type { NewEvent } from '../../store/index.js';
import { errorBody, statusOf } from '../errors.js';
import { gatewayRoutes } from './gateway.js';

function setup(options: { failback?: boolean; failingStore?: boolean } = {}) {
  const pool = new EndpointPool([
    { id: 'e0', url: 'http://127.0.0.1:1', zone: 'z0' },
    { id: 'e1', url: 'http://127.0.0.1:2', zone: 'z1' },
  ], { failover: { failback: options.failback ?? true, primaryZones: ['z0'] } });
  pool.setHealth('e0', 'up');
  pool.setHealth('e1', 'up');
  const events: NewEvent[] = [];
  const changed: string[] = [];
  const gateway = {
    poolChanged: (service: string) => {
      changed.push(service);
    },
    snapshot: () => ({ api: { listen: '127.0.0.1:8080', ...pool.snapshot() } }),
    service: (name: string) => (name === 'api' ? { pool } : undefined),
  };
  const store = {
    appendEvent: async (e: NewEvent) => {
      if (options.failingStore) throw new Error('store down');
      events.push(e);
      return { id: events.length, at: new Date().toISOString(), data: null, ...e };
    },
  };
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (c.req.header('x-token-name')) c.set('tokenName', c.req.header('x-token-name') as string);
    await next();
  });
  app.route('/', gatewayRoutes({ gateway, store, log: silentLogger() }));
  app.onError((err, c) => c.json(errorBody(err), statusOf(err)));
  return { pool, app, events, changed };
}

const send = (app: Hono, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method, headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

type ErrorAnswer = { error: { code: string; message: string; hint?: string } };
type EndpointAnswer = { service: string; level: string; endpoint: { id: string; admin: string; weight: number; active: number; serving: boolean } };

describe('gateway admin routes', () => {
  it('lists every pool and one pool', async () => {
    const { app } = setup();
    const all = await (await send(app, 'GET', '/gateway')).json() as { services: Record<string, { level: string; endpoints: unknown[] }> };
    expect(all.services.api?.level).toBe('primary');
    expect(all.services.api?.endpoints).toHaveLength(2);
    const one = await (await send(app, 'GET', '/gateway/api')).json() as { service: string; listen: string };
    expect(one).toMatchObject({ service: 'api', listen: '127.0.0.1:8080' });
  });

  it('drains, disables and enables, answering the new endpoint state with its in-flight count, and records who did it', async () => {
    const { app, pool, events, changed } = setup();
    pool.acquire('e0');
    const res = await send(app, 'POST', '/gateway/api/endpoints/e0/drain', undefined, { 'x-token-name': 'alice' });
    expect(res.status).toBe(200);
    const body = await res.json() as EndpointAnswer;
    expect(body.endpoint).toMatchObject({ id: 'e0', admin: 'draining', active: 1, serving: false });
    expect(body.level).toBe('spillover');
    expect(events[0]).toMatchObject({ subsystem: 'gateway', kind: 'endpoint.drain', subject: 'api/e0', data: { by: 'alice', from: 'enabled', to: 'draining', active: 1 } });

    expect(((await (await send(app, 'POST', '/gateway/api/endpoints/e0/disable')).json()) as EndpointAnswer).endpoint.admin).toBe('disabled');
    expect(events[1]).toMatchObject({ kind: 'endpoint.disable', data: { by: 'api', from: 'draining', to: 'disabled' } });
    const enabled = await (await send(app, 'POST', '/gateway/api/endpoints/e0/enable')).json() as EndpointAnswer;
    expect(enabled.endpoint).toMatchObject({ admin: 'enabled', serving: true });
    expect(changed).toEqual(['api', 'api', 'api']);
  });

  it('sets a weight and refuses bad ones with a clear 400', async () => {
    const { app, events } = setup();
    const ok = await send(app, 'PUT', '/gateway/api/endpoints/e1/weight', { weight: 0 });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as EndpointAnswer).endpoint).toMatchObject({ weight: 0, serving: false });
    expect(events[0]).toMatchObject({ kind: 'endpoint.weight', data: { from: 100, to: 0 } });

    const cases: Array<[unknown, RegExp]> = [
      [{ weight: 1001 }, /at most 1000/],
      [{ weight: -1 }, /at least 0/],
      [{ weight: 2.5 }, /whole number/],
      [{ weight: '50' }, /must be a number/],
      [{}, /must be a number/],
      [{ weight: 5, extra: 1 }, /extra/],
      ['not json', /JSON body/],
    ];
    for (const [body, message] of cases) {
      const res = await send(app, 'PUT', '/gateway/api/endpoints/e1/weight', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const err = await res.json() as ErrorAnswer;
      expect(err.error.code).toBe('BAD_REQUEST');
      expect(err.error.message).toMatch(message);
    }
    expect(events).toHaveLength(1);
  });

  it('answers 404 with a hint for an unknown service or endpoint, changing nothing', async () => {
    const { app, events } = setup();
    const service = await send(app, 'POST', '/gateway/web/endpoints/e0/drain');
    expect(service.status).toBe(404);
    expect(((await service.json()) as ErrorAnswer).error).toMatchObject({ message: 'service "web" has no gateway', hint: 'services with a gateway: api' });
    expect((await send(app, 'GET', '/gateway/web')).status).toBe(404);

    const endpoint = await send(app, 'PUT', '/gateway/api/endpoints/nope/weight', { weight: 3 });
    expect(endpoint.status).toBe(404);
    expect(((await endpoint.json()) as ErrorAnswer).error.hint).toBe('known endpoints: e0, e1');
    expect(events).toHaveLength(0);
  });

  it('resets a held failover', async () => {
    const { app, pool, events } = setup({ failback: false });
    pool.setHealth('e0', 'down');
    expect(pool.level).toBe('spillover');
    pool.setHealth('e0', 'up');
    expect(pool.level).toBe('spillover');
    const res = await send(app, 'POST', '/gateway/api/reset-failover');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { level: string }).level).toBe('primary');
    expect(events[0]).toMatchObject({ kind: 'pool.reset-failover', subject: 'api', data: { from: 'spillover', to: 'primary' } });
  });

  it('keeps a change that is in effect when the audit write fails', async () => {
    const { app } = setup({ failingStore: true });
    const res = await send(app, 'POST', '/gateway/api/endpoints/e1/disable');
    expect(res.status).toBe(200);
  });
});
