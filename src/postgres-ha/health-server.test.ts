import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthServer } from './health-server.js';
import type { MemberSnapshot } from './member-manager.js';

const PRIMARY: MemberSnapshot = {
  name: 'm1', role: 'primary', leader: true, fenced: false, state: 'primary holding the leader lease',
  timeline: 2, lsn: '0/3000148', following: undefined, lagBytes: undefined,
};
const REPLICA: MemberSnapshot = {
  name: 'm2', role: 'replica', leader: false, fenced: false, state: 'replica of m1',
  timeline: 2, lsn: '0/3000100', following: 'm1', lagBytes: 72,
};

const servers: HealthServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

/** A server on port 0 whose snapshot the test changes at will. */
async function serve(initial: MemberSnapshot | undefined) {
  let current = initial;
  const server = new HealthServer({ member: 'm', host: '127.0.0.1', port: 0, snapshot: () => current });
  servers.push(server);
  await server.start();
  const call = async (path: string, method = 'GET') => {
    const res = await request(`http://127.0.0.1:${server.port}${path}`, { method: method as 'GET' });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  return { server, call, set: (s: MemberSnapshot | undefined) => { current = s; } };
}

async function statuses(call: (p: string, m?: string) => Promise<{ status: number }>, paths: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of paths) out[p] = (await call(p)).status;
  return out;
}

const PATHS = ['/', '/primary', '/master', '/read-write', '/replica', '/read-only', '/health', '/liveness', '/patroni'];

describe('health endpoints', () => {
  it('a leader primary: 200 on the primary checks, 503 on /replica', async () => {
    const { call } = await serve(PRIMARY);
    expect(await statuses(call, PATHS)).toEqual({
      '/': 200, '/primary': 200, '/master': 200, '/read-write': 200, '/replica': 503, '/read-only': 200, '/health': 200, '/liveness': 200, '/patroni': 200,
    });
    const res = await call('/patroni');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toEqual({
      name: 'm1', role: 'primary', state: 'primary holding the leader lease', timeline: 2, lsn: '0/3000148', lag: null, leader: true, fenced: false, following: null,
    });
  });

  it('a replica: 200 on /replica (within ?lag), 503 on the primary checks', async () => {
    const { call } = await serve(REPLICA);
    expect(await statuses(call, PATHS)).toEqual({
      '/': 503, '/primary': 503, '/master': 503, '/read-write': 503, '/replica': 200, '/read-only': 200, '/health': 200, '/liveness': 200, '/patroni': 200,
    });
    expect((await call('/replica')).body).toMatchObject({ role: 'replica', lag: 72, following: 'm1', leader: false });
    expect((await call('/replica?lag=100')).status).toBe(200);
    expect((await call('/replica?lag=64')).status).toBe(503);
    expect((await call('/replica?lag=1MB')).status).toBe(200);
    expect((await call('/replica?lag=lots')).status).toBe(503);
  });

  it('a fenced primary, a primary without the lease, a stopped or silent member: never 200 on /primary', async () => {
    const { call, set } = await serve({ ...PRIMARY, fenced: true });
    expect(await statuses(call, ['/primary', '/replica', '/health'])).toEqual({ '/primary': 503, '/replica': 503, '/health': 200 });
    set({ ...PRIMARY, leader: false });
    expect((await call('/primary')).status).toBe(503);
    set({ ...REPLICA, fenced: true });
    expect((await call('/replica')).status).toBe(503);
    set({ ...REPLICA, role: 'stopped', lagBytes: undefined });
    expect(await statuses(call, ['/primary', '/replica', '/health', '/liveness'])).toEqual({ '/primary': 503, '/replica': 503, '/health': 503, '/liveness': 200 });
    set({ ...REPLICA, role: 'unknown' });
    expect((await call('/health')).status).toBe(503);
    set(undefined);
    const res = await call('/liveness');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ role: 'unknown', state: 'member manager not running' });
  });

  it('answers HEAD without a body and OPTIONS (HAProxy’s default) like GET', async () => {
    const { call } = await serve(PRIMARY);
    const head = await call('/primary', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBeUndefined();
    expect((await call('/replica', 'HEAD')).status).toBe(503);
    const options = await call('/primary', 'OPTIONS');
    expect(options.status).toBe(200);
    expect(options.body).toMatchObject({ role: 'primary' });
  });

  it('is read-only: other methods get 405 with Allow, unknown paths 404', async () => {
    const { call } = await serve(PRIMARY);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const res = await call('/primary', method);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
    }
    const missing = await call('/switchover');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'no health endpoint /switchover' });
  });

  it('a snapshot source that throws answers 503, and the server keeps serving', async () => {
    const server = new HealthServer({ member: 'm', host: '127.0.0.1', port: 0, snapshot: () => { throw new Error('boom'); } });
    servers.push(server);
    await server.start();
    const res = await request(`http://127.0.0.1:${server.port}/health`);
    await res.body.text();
    expect(res.statusCode).toBe(503);
  });

  it('says which address it could not listen on; stop is safe twice', async () => {
    const { server } = await serve(PRIMARY);
    const clash = new HealthServer({ member: 'm9', host: '127.0.0.1', port: server.port ?? 0, snapshot: () => PRIMARY });
    await expect(clash.start()).rejects.toThrow(`health endpoint of m9 cannot listen on 127.0.0.1:${server.port}: `);
    await server.stop();
    await server.stop();
  });
});
