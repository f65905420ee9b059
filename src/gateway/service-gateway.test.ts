import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/index.js';
import { silentLogger } from '../core/logger.js';
import { registerGatewayMetrics } from './metrics.js';
import { send } from './proxy/testing/http-client.js';
import { listen, shut } from './proxy/testing/support.js';
import { ServiceGateway } from './service-gateway.js';

const servers: Server[] = [];
const holds: Array<() => void> = [];
afterEach(async () => {
  for (const release of holds.splice(0)) release();
  await Promise.all(servers.splice(0).map(shut));
});

/** An upstream answering its own name; requests to /hold stay open until released. */
async function upstream(id: string, seen: string[] = []): Promise<number> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(id);
    const answer = (): void => void res.end(id);
    if (req.url === '/hold') holds.push(answer);
    else answer();
  });
  servers.push(server);
  return listen(server);
}

async function gatewayFor(ports: Record<string, number>, extra: string): Promise<{ gw: ServiceGateway; port: number; registry: Registry }> {
  const endpoints = Object.entries(ports).map(([name, port]) => `      - { name: ${name}, url: "http://127.0.0.1:${port}" }`).join('\n');
  const yaml = `services:\n  api:\n    listen: 127.0.0.1:0\n    endpoints:\n${endpoints}\n${extra}`;
  const loaded = parseConfigText(yaml, 'test.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  const service = loaded.config.services.api;
  if (!service) throw new Error('no service api');
  const registry = new Registry();
  const gw = new ServiceGateway('api', service, registerGatewayMetrics(registry), silentLogger());
  const server = gw.server as Server;
  servers.push(server);
  return { gw, port: await listen(server), registry };
}

function cookieOf(setCookie: string[] | undefined, name: string): string | undefined {
  const found = setCookie?.find((c) => c.startsWith(`${name}=`));
  return found?.slice(name.length + 1).split(';')[0];
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not reached');
}

describe('ServiceGateway: rate limit', () => {
  it('refuses the request past the burst with 429 and Retry-After, then admits again', async () => {
    const { port, registry } = await gatewayFor({ a: await upstream('a') }, '    rate_limit: { requests_per_second: 5, burst: 5 }\n');
    // All at once: sequential requests would give the bucket time to refill (one token per 200 ms).
    const burst = await Promise.all(Array.from({ length: 6 }, () => send(port)));
    expect(burst.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = burst.find((r) => r.status === 429) as (typeof burst)[number];
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringContaining('5 requests per second') });
    const metric = await registry.getSingleMetric('bulwark_gateway_rate_limited_total')?.get();
    expect(metric?.values[0]).toMatchObject({ value: 1, labels: { service: 'api' } });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await send(port)).status).toBe(200);
  });

  it('keys on a header: one client running out leaves the others alone', async () => {
    const { port } = await gatewayFor({ a: await upstream('a') }, '    rate_limit: { requests_per_second: 1, burst: 2, key: "header:x-api-key" }\n');
    const as = (key: string) => send(port, { headers: { 'x-api-key': key } });
    const alice = await Promise.all([as('alice'), as('alice'), as('alice')]);
    expect(alice.map((r) => r.status).sort()).toEqual([200, 200, 429]);
    const bob = await Promise.all([as('bob'), as('bob')]);
    expect(bob.map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('ServiceGateway: sticky sessions', () => {
  it('pins a client to its endpoint and moves it cleanly when the endpoint goes down', async () => {
    const { gw, port } = await gatewayFor({ a: await upstream('a'), b: await upstream('b') }, '    load_balancing: { sticky_sessions: { cookie: lb } }\n');
    const first = await send(port);
    const setCookie = first.headers['set-cookie'];
    expect(setCookie).toHaveLength(1);
    expect(setCookie?.[0]).toMatch(/^lb=[\w-]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const value = cookieOf(setCookie, 'lb');
    const home = first.body;
    for (let i = 0; i < 4; i++) {
      const res = await send(port, { headers: { cookie: `other=1; lb=${value}` } });
      expect(res.body).toBe(home);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    gw.setHealth(home, 'down');
    const moved = await send(port, { headers: { cookie: `lb=${value}` } });
    expect(moved.status).toBe(200);
    expect(moved.body).not.toBe(home);
    const next = cookieOf(moved.headers['set-cookie'], 'lb');
    expect(next).toBeDefined();
    expect(next).not.toBe(value);
    const after = await send(port, { headers: { cookie: `lb=${next}` } });
    expect(after.body).toBe(moved.body);
    expect(after.headers['set-cookie']).toBeUndefined();
  });

  it('replaces a forged cookie with a real one', async () => {
    const { port } = await gatewayFor({ a: await upstream('a') }, '    load_balancing: { sticky_sessions: true }\n');
    const res = await send(port, { headers: { cookie: 'bulwark_sticky=forged' } });
    expect(res.status).toBe(200);
    expect(cookieOf(res.headers['set-cookie'], 'bulwark_sticky')).toMatch(/^[\w-]{22}$/);
  });
});

describe('ServiceGateway: least connections', () => {
  it('sends new requests to the endpoint with fewer in-flight requests', async () => {
    const seen: string[] = [];
    const { gw, port } = await gatewayFor({ a: await upstream('a', seen), b: await upstream('b', seen) }, '    load_balancing: { algorithm: least_connections }\n');
    const held = send(port, { path: '/hold' });
    await until(() => seen.length === 1);
    const busy = seen[0] as string;
    expect(gw.pool.get(busy)?.active).toBe(1);
    const bodies: string[] = [];
    for (let i = 0; i < 5; i++) bodies.push((await send(port)).body);
    expect(new Set(bodies)).toEqual(new Set([busy === 'a' ? 'b' : 'a']));
    for (const release of holds.splice(0)) release();
    expect((await held).body).toBe(busy);
    await until(() => gw.pool.get(busy)?.active === 0);
    expect(gw.pool.snapshot().endpoints.map((e) => e.active)).toEqual([0, 0]);
  });
});
