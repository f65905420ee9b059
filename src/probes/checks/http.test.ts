import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseCondition, type Condition } from '../../conditions/index.js';
import { closedPort, contextFor, listen, track } from '../testing/http-fixtures.js';
import { createTlsFixtures, type TlsFixtures } from '../testing/tls-fixtures.js';
import { runHttpCheck } from './http.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function serve(handler: Handler, server: Server = createServer(handler)): Promise<string> {
  if (server.listenerCount('request') === 0) server.on('request', handler);
  const { close } = track(server);
  closers.push(close);
  return `http://127.0.0.1:${await listen(server)}`;
}

function conditions(...texts: string[]): Condition[] {
  return texts.map((text) => {
    const result = parseCondition(text);
    if (!result.ok) throw new Error(result.error);
    return result.condition;
  });
}

describe('http check', () => {
  it('passes on 200 and sends a probe User-Agent', async () => {
    let agent = '';
    const url = await serve((req, res) => {
      agent = req.headers['user-agent'] ?? '';
      res.end('ok');
    });
    const result = await runHttpCheck({ url }, contextFor(2000));
    expect(result).toMatchObject({ ok: true, observations: { status: 200 } });
    expect(agent).toMatch(/^bulwark-probe\/\d+\.\d+\.\d+/);
  });

  it('fails a 503 with reason status', async () => {
    const url = await serve((_req, res) => res.writeHead(503).end('down'));
    const result = await runHttpCheck({ url }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'status', message: 'HTTP 503', observations: { status: 503 } });
  });

  it('lets a status condition replace the default expectation', async () => {
    const url = await serve((_req, res) => res.writeHead(418).end());
    const result = await runHttpCheck({ url, conditions: conditions('status == 418') }, contextFor(2000));
    expect(result.ok).toBe(true);
  });

  it('evaluates conditions on the JSON body and headers', async () => {
    const url = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ checks: [{ name: 'db', state: 'degraded' }] }));
    });
    const spec = { url, conditions: conditions('header.content-type contains "json"', 'body.checks[0].state == "up"') };
    const result = await runHttpCheck(spec, contextFor(2000));
    expect(result).toMatchObject({
      ok: false,
      reason: 'condition',
      message: 'condition failed: body.checks[0].state == "up" (was "degraded")',
      observations: { headers: { 'content-type': 'application/json' } },
    });
  });

  it('measures response_time for conditions', async () => {
    const url = await serve((_req, res) => setTimeout(() => res.end('slow'), 150));
    const fast = await runHttpCheck({ url, conditions: conditions('response_time < 100ms') }, contextFor(2000));
    expect(fast).toMatchObject({ ok: false, reason: 'condition' });
    expect(fast.message).toMatch(/^condition failed: response_time < 100ms \(was 1\d\d(\.\d+)?\)$/);
    const slow = await runHttpCheck({ url, conditions: conditions('response_time < 2s') }, contextFor(2000));
    expect(slow.ok).toBe(true);
  });

  it('times out at the deadline when the answer comes later', async () => {
    const url = await serve((_req, res) => setTimeout(() => res.end('late'), 1300).unref());
    const result = await runHttpCheck({ url }, contextFor(300));
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(Math.abs(result.durationMs - 300)).toBeLessThan(100);
  });

  it('times out when the server accepts and never answers', async () => {
    const server = createNetServer(() => {});
    const { close } = track(server);
    closers.push(close);
    const port = await listen(server);
    const result = await runHttpCheck({ url: `http://127.0.0.1:${port}/` }, contextFor(200));
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('stops reading a 1 GB body at the limit, with bounded memory', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    const url = await serve((_req, res) => {
      const pump = (): void => {
        while (sent < 1024 ** 3 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const before = process.memoryUsage().rss;
    const result = await runHttpCheck({ url }, contextFor(5000));
    expect(result).toMatchObject({ ok: false, reason: 'body_too_large', observations: { status: 200 } });
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
    expect(sent).toBeGreaterThan(64 * 1024);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('rejects a declared Content-Length over the limit without reading', async () => {
    const url = await serve((_req, res) => res.writeHead(200, { 'content-length': '1000' }).end('x'.repeat(1000)));
    const result = await runHttpCheck({ url, maxBodyBytes: 100 }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'body_too_large' });
  });

  it('reports invalid HTTP as protocol', async () => {
    const server = createNetServer((socket) => socket.end('garbage\r\n\r\n'));
    const { close } = track(server);
    closers.push(close);
    const port = await listen(server);
    const result = await runHttpCheck({ url: `http://127.0.0.1:${port}/` }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'protocol' });
    expect(result.message).toMatch(/HPE_/);
  });

  it('reports a connection closed before the answer as reset', async () => {
    const server = createNetServer((socket) => socket.once('data', () => socket.destroy()));
    const { close } = track(server);
    closers.push(close);
    const port = await listen(server);
    const result = await runHttpCheck({ url: `http://127.0.0.1:${port}/` }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'reset' });
  });

  it('reports a connection cut mid-body as reset', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => res.socket?.destroy());
    });
    const result = await runHttpCheck({ url }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'reset', observations: { status: 200 } });
  });

  it('reports a closed port as refused', async () => {
    const port = await closedPort();
    const result = await runHttpCheck({ url: `http://127.0.0.1:${port}/` }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'refused' });
    expect(result.message).toContain('ECONNREFUSED');
  });

  it('reports an unresolvable host as dns', async () => {
    const result = await runHttpCheck({ url: 'http://does-not-exist.invalid/' }, contextFor(3000));
    expect(['dns', 'timeout']).toContain(result.reason);
  });

  it('rejects URLs it cannot probe', async () => {
    expect(await runHttpCheck({ url: 'not a url' }, contextFor(100))).toMatchObject({ reason: 'error' });
    expect(await runHttpCheck({ url: 'ftp://x/' }, contextFor(100))).toMatchObject({ reason: 'error' });
  });

  it('returns timeout at once for an already-aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runHttpCheck({ url: 'http://127.0.0.1:1/' }, { signal: controller.signal, timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, reason: 'timeout' });
    expect(result.durationMs).toBeLessThan(50);
  });
});

describe('https check', () => {
  let tls: TlsFixtures;
  beforeAll(() => {
    tls = createTlsFixtures();
  });
  afterAll(() => tls.cleanup());

  async function serveTls(pair: { key: string; cert: string }): Promise<string> {
    const url = await serve((_req, res) => res.end('secure'), createHttpsServer(pair));
    return url.replace('http:', 'https:');
  }

  it('fails a self-signed certificate with reason tls', async () => {
    const url = await serveTls(tls.valid);
    const result = await runHttpCheck({ url }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toMatch(/self[- ]signed/i);
  });

  it('passes with tlsSkipVerify and observes the expiry', async () => {
    const url = await serveTls(tls.valid);
    const result = await runHttpCheck({ url, tlsSkipVerify: true }, contextFor(2000));
    expect(result.ok).toBe(true);
    expect(result.observations.certExpiresInDays).toBeGreaterThan(0.9);
    expect(result.observations.certExpiresInDays).toBeLessThanOrEqual(1);
  });

  it('passes when the CA is trusted, and checks cert_expires_in', async () => {
    const url = (await serveTls(tls.valid)).replace('127.0.0.1', 'localhost');
    const spec = { url, ca: tls.valid.cert, conditions: conditions('cert_expires_in > 14d') };
    const result = await runHttpCheck(spec, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'condition' });
    expect(result.message).toMatch(/^condition failed: cert_expires_in > 14d \(was (0\.9\d|1)\)$/);
  });

  it('fails an expired certificate with a message about expiry', async () => {
    const url = await serveTls(tls.expired);
    const result = await runHttpCheck({ url, ca: tls.expired.cert }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'tls' });
    expect(result.message).toMatch(/expired/);
  });

  it('observes a negative expiry when verification is skipped', async () => {
    const url = await serveTls(tls.expired);
    const result = await runHttpCheck({ url, tlsSkipVerify: true }, contextFor(2000));
    expect(result.ok).toBe(true);
    expect(result.observations.certExpiresInDays).toBeLessThan(-365);
  });
});
