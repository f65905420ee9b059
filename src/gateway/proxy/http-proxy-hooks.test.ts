import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { readCookie, sessionCookie } from './cookies.js';
import { send } from './testing/http-client.js';
import { createHttpProxy } from './http-proxy.js';
import { defaultLimits, defaultTimeouts, listen, orderedHooks, shut, upstream, type RecordingHooks } from './testing/support.js';
import type { AdmitRequest } from './types.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(shut));
});

async function backend(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  return listen(server);
}

async function proxyFor(hooks: RecordingHooks): Promise<number> {
  const server = createHttpProxy({ hooks, timeouts: defaultTimeouts, limits: defaultLimits, log: silentLogger() });
  servers.push(server);
  return listen(server);
}

describe('http proxy: admission', () => {
  it('answers 429 with Retry-After and a JSON body before picking any upstream', async () => {
    let hits = 0;
    const hooks = orderedHooks([upstream('a', await backend((_req, res) => { hits++; res.end('ok'); }))]);
    const seen: AdmitRequest[] = [];
    let picks = 0;
    const pick = hooks.pick;
    hooks.pick = (req, tried) => { picks++; return pick(req, tried); };
    hooks.admit = (req) => {
      seen.push(req);
      return { ok: false, status: 429, retryAfterS: 0.2, message: 'slow down, client' };
    };
    const res = await send(await proxyFor(hooks), { headers: { 'x-client': 'c1' } });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'RATE_LIMITED', message: 'slow down, client' } });
    expect(hits).toBe(0);
    expect(picks).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'GET', clientIp: '127.0.0.1', headers: { 'x-client': 'c1' } });
    expect(seen[0]?.remoteAddress).toMatch(/127\.0\.0\.1$/);
  });

  it('lets admitted requests through, deciding per request', async () => {
    const hooks = orderedHooks([upstream('a', await backend((_req, res) => res.end('ok')))]);
    let n = 0;
    hooks.admit = () => (++n % 2 === 1 ? { ok: true } : { ok: false, status: 429, retryAfterS: 3, message: 'no' });
    const port = await proxyFor(hooks);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(port)).status);
    expect(statuses).toEqual([200, 429, 200, 429]);
  });

  it('refuses an upgrade with a raw 429', async () => {
    const hooks = orderedHooks([upstream('a', await backend((_req, res) => res.end('ok')))]);
    hooks.admit = () => ({ ok: false, status: 429, retryAfterS: 2, message: 'no' });
    const port = await proxyFor(hooks);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer).toMatch(/retry-after: 2\r\n/);
    expect(answer).toContain('"RATE_LIMITED"');
  });
});

describe('http proxy: Set-Cookie from pick', () => {
  it('appends the pick cookie after the upstream cookies, keeping them', async () => {
    const port0 = await backend((_req, res) => {
      res.setHeader('set-cookie', ['app=1; Path=/', 'theme=dark']);
      res.end('ok');
    });
    const hooks = orderedHooks([{ ...upstream('a', port0), setCookie: sessionCookie('lb', 'v1') }]);
    const res = await send(await proxyFor(hooks));
    expect(res.headers['set-cookie']).toEqual(['app=1; Path=/', 'theme=dark', 'lb=v1; Path=/; HttpOnly; SameSite=Lax']);
  });

  it('adds the cookie when the upstream sets none, and uses the cookie of the upstream that answered', async () => {
    const dead = createServer();
    const deadPort = await listen(dead);
    await shut(dead);
    const hooks = orderedHooks([
      { ...upstream('dead', deadPort), setCookie: 'lb=dead' },
      { ...upstream('b', await backend((_req, res) => res.end('ok'))), setCookie: 'lb=b' },
    ]);
    const res = await send(await proxyFor(hooks));
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual(['lb=b']);
  });

  it('sets nothing when pick asks for nothing', async () => {
    const res = await send(await proxyFor(orderedHooks([upstream('a', await backend((_req, res) => res.end('ok')))])));
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('readCookie', () => {
  it('finds a cookie among others, unquotes, ignores lookalikes', () => {
    expect(readCookie('a=1; lb=xyz; b=2', 'lb')).toBe('xyz');
    expect(readCookie('xlb=1; lb="q"', 'lb')).toBe('q');
    expect(readCookie('lb=', 'lb')).toBeUndefined();
    expect(readCookie(undefined, 'lb')).toBeUndefined();
    expect(readCookie(['a=1', 'lb=2'], 'lb')).toBe('2');
  });
});
