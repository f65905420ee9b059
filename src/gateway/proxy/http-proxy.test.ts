import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { send } from './testing/http-client.js';
import { createHttpProxy } from './http-proxy.js';
import { deadUrl, defaultLimits, defaultTimeouts, listen, orderedHooks, shut, upstream, type RecordingHooks } from './testing/support.js';
import type { HttpProxyOptions } from './types.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(shut));
});

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const retainedBytes = (): number => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;

async function backend(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  return listen(server);
}

async function proxyFor(hooks: RecordingHooks, overrides: Partial<HttpProxyOptions> = {}): Promise<number> {
  const server = createHttpProxy({ hooks, timeouts: defaultTimeouts, limits: defaultLimits, log: silentLogger(), ...overrides });
  servers.push(server);
  return listen(server);
}

function echo(id: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  };
}

describe('http proxy: forwarding', () => {
  it('proxies GET and POST with bodies', async () => {
    const port = await proxyFor(orderedHooks([upstream('a', await backend(echo('a')))]));
    const get = await send(port, { path: '/x?y=1' });
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body)).toMatchObject({ id: 'a', method: 'GET', url: '/x?y=1' });
    const post = await send(port, { method: 'POST', path: '/p', body: 'hello world', headers: { 'content-type': 'text/plain' } });
    expect(JSON.parse(post.body)).toMatchObject({ method: 'POST', body: 'hello world' });
  });

  it('removes hop-by-hop headers both ways and sets X-Forwarded-*', async () => {
    const port0 = await backend((req, res) => {
      res.setHeader('connection', 'x-resp-hop');
      res.setHeader('x-resp-hop', '1');
      res.setHeader('x-resp-kept', '1');
      echo('a')(req, res);
    });
    const port = await proxyFor(orderedHooks([upstream('a', port0)]));
    const res = await send(port, {
      headers: {
        host: 'public.example',
        connection: 'x-hop',
        'x-hop': 'secret',
        'keep-alive': 'timeout=5',
        te: 'trailers',
        'proxy-authorization': 'Basic abc',
        'x-forwarded-for': '203.0.113.7',
        'x-end-to-end': 'kept',
      },
    });
    const seen = JSON.parse(res.body).headers as Record<string, string>;
    for (const h of ['x-hop', 'keep-alive', 'te', 'proxy-authorization']) expect(seen[h]).toBeUndefined();
    expect(seen).toMatchObject({ host: 'public.example', 'x-end-to-end': 'kept', 'x-forwarded-for': '203.0.113.7, 127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'public.example' });
    expect(res.headers['x-resp-hop']).toBeUndefined();
    expect(res.headers['x-resp-kept']).toBe('1');
  });

  it('streams a 50 MB response without buffering it', async () => {
    const total = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    const port0 = await backend(async (_req, res) => {
      res.writeHead(200, { 'content-length': String(total) });
      while (sent < total) {
        sent += chunk.length;
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    });
    const port = await proxyFor(orderedHooks([upstream('a', port0)]));
    collectGarbage();
    const baseline = retainedBytes();
    const res = await new Promise<IncomingMessage>((resolve, reject) => get({ host: '127.0.0.1', port, agent: false }, resolve).on('error', reject));
    let received = 0;
    res.pause();
    await new Promise((r) => setTimeout(r, 300));
    collectGarbage();
    // A stalled client stalls the upstream: only socket buffers are in flight, nothing piles up in the gateway.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(retainedBytes() - baseline).toBeLessThan(8 * 1024 * 1024);
    res.on('data', (c: Buffer) => (received += c.length)).resume();
    await new Promise((r) => res.once('end', r));
    expect(received).toBe(total);
  });
});

describe('http proxy: failover and retries', () => {
  it('retries a dead upstream on another with no client-visible failure', async () => {
    const hooks = orderedHooks([upstream('dead', await deadUrl()), upstream('b', await backend(echo('b')))]);
    const res = await send(await proxyFor(hooks));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).id).toBe('b');
    expect(hooks.reports.map((r) => [r.id, r.outcome.kind])).toEqual([['dead', 'connect_failure'], ['b', 'response']]);
  });

  it('times out a hanging upstream per try and retries elsewhere', async () => {
    const perTryMs = 300;
    const hang = await backend(() => undefined);
    const hooks = orderedHooks([upstream('hang', hang), upstream('b', await backend(echo('b')))]);
    const port = await proxyFor(hooks, { timeouts: { ...defaultTimeouts, perTryMs } });
    const started = performance.now();
    const res = await send(port);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(perTryMs - 20);
    expect(elapsed).toBeLessThan(2 * perTryMs);
    expect(hooks.reports[0]).toMatchObject({ id: 'hang', outcome: { kind: 'timeout' } });
  });

  it('replays a small POST body on the next upstream when the policy allows', async () => {
    const reset = await backend((req) => req.on('data', () => req.socket.destroy()));
    const hooks = orderedHooks([upstream('reset', reset), upstream('b', await backend(echo('b')))]);
    const res = await send(await proxyFor(hooks), { method: 'POST', body: 'payload' });
    expect(JSON.parse(res.body)).toMatchObject({ id: 'b', body: 'payload' });
    expect(hooks.reports[0]?.outcome.kind).toBe('reset');
  });

  it('never retries a POST when shouldRetry says no', async () => {
    let secondHits = 0;
    const reset = await backend((req) => req.on('data', () => req.socket.destroy()));
    const second = await backend((req, res) => {
      secondHits++;
      echo('b')(req, res);
    });
    const hooks = orderedHooks([upstream('reset', reset), upstream('b', second)], (ctx) => ({ retry: ctx.method !== 'POST', delayMs: 0 }));
    const res = await send(await proxyFor(hooks), { method: 'POST', body: 'once' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'UPSTREAM_RESET', message: expect.any(String) } });
    expect(secondHits).toBe(0);
    expect(hooks.retryCalls).toHaveLength(1);
  });

  it('does not replay a body larger than the retry buffer', async () => {
    let secondHits = 0;
    const reset = await backend((req) => req.on('data', () => req.socket.destroy()));
    const second = await backend((req, res) => {
      secondHits++;
      echo('b')(req, res);
    });
    const hooks = orderedHooks([upstream('reset', reset), upstream('b', second)]);
    const res = await send(await proxyFor(hooks), { method: 'PUT', body: Buffer.alloc(200 * 1024, 1) });
    expect(res.status).toBe(502);
    expect(secondHits).toBe(0);
  });

  it('passes an upstream 503 through when no other upstream is left', async () => {
    const busy = await backend((_req, res) => res.writeHead(503, { 'x-from': 'upstream' }).end('busy'));
    const hooks = orderedHooks([upstream('a', busy)]);
    const res = await send(await proxyFor(hooks));
    expect(res.status).toBe(503);
    expect(res.headers['x-from']).toBe('upstream');
    expect(hooks.retryCalls[0]).toMatchObject({ attempt: 1, status: 503 });
  });
});

describe('http proxy: no upstream', () => {
  it('answers 502 with a JSON body when every upstream is down', async () => {
    const hooks = orderedHooks([upstream('x', await deadUrl()), upstream('y', await deadUrl())]);
    const res = await send(await proxyFor(hooks));
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body).error.code).toBe('UPSTREAM_CONNECT_FAILED');
  });

  it('answers 503 with Retry-After when nothing can be picked', async () => {
    const res = await send(await proxyFor(orderedHooks([]), { noUpstreamRetryAfterS: 7 }));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(JSON.parse(res.body).error.code).toBe('NO_UPSTREAM_AVAILABLE');
  });

  it('answers 503 with Retry-After when acquire reports every upstream overloaded', async () => {
    const hooks = orderedHooks([upstream('a', await backend(echo('a')))]);
    hooks.acquire = async () => ({ overloaded: true, retryAfterS: 3 });
    const res = await send(await proxyFor(hooks));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('3');
    expect(JSON.parse(res.body).error.code).toBe('UPSTREAM_OVERLOADED');
  });

  it('releases an acquired slot after the response', async () => {
    const hooks = orderedHooks([upstream('a', await backend(echo('a')))]);
    let held = 0;
    hooks.acquire = async () => {
      held++;
      return () => held--;
    };
    await send(await proxyFor(hooks));
    expect(held).toBe(0);
  });
});

