import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createHttpProxy } from './http-proxy.js';
import { send } from './testing/http-client.js';
import { defaultLimits, defaultTimeouts, listen, orderedHooks, shut, upstream, type RecordingHooks } from './testing/support.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(shut));
});

async function backend(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; sockets: Set<Socket> }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => sockets.add(s));
  servers.push(server);
  return { port: await listen(server), sockets };
}

async function proxyFor(hooks: RecordingHooks): Promise<number> {
  const server = createHttpProxy({ hooks, timeouts: defaultTimeouts, limits: defaultLimits, log: silentLogger() });
  servers.push(server);
  return listen(server);
}

/** Counts acquired-and-not-released attempt slots. */
function countSlots(hooks: RecordingHooks): { held: () => number } {
  let held = 0;
  hooks.acquire = () => {
    held++;
    let released = false;
    return () => {
      if (!released) held--;
      released = true;
    };
  };
  return { held: () => held };
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('http proxy: response bodies', () => {
  it('throws away a retried 503 body and keeps that upstream connection for the next request', async () => {
    const flaky = await backend((req, res) => {
      if (req.headers['x-fail'] === '1') res.writeHead(503, { 'content-type': 'text/plain' }).end('x'.repeat(20_000));
      else res.end('fine');
    });
    const healthy = await backend((_req, res) => res.end('from b'));
    const hooks = orderedHooks([upstream('flaky', flaky.port), upstream('b', healthy.port)]);
    const slots = countSlots(hooks);
    const port = await proxyFor(hooks);

    const retried = await send(port, { headers: { 'x-fail': '1' } });
    expect(retried.status).toBe(200);
    expect(retried.body).toBe('from b');
    expect(hooks.reports.map((r) => [r.id, r.outcome.kind === 'response' ? r.outcome.status : r.outcome.kind])).toEqual([['flaky', 503], ['b', 200]]);

    const again = await send(port);
    expect(again.body).toBe('fine');
    // The 503's 20 kB body was read to its end, so the second request reused its connection.
    expect(flaky.sockets.size).toBe(1);
    await until(() => slots.held() === 0, 'slots released');
  });

  it('a client leaving mid-body cuts the upstream response and frees the slot', async () => {
    let upstreamClosed = false;
    const endless = await backend((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 5);
      res.on('close', () => {
        clearInterval(timer);
        upstreamClosed = true;
      });
    });
    const hooks = orderedHooks([upstream('a', endless.port)]);
    const slots = countSlots(hooks);
    const port = await proxyFor(hooks);

    const res = await new Promise<IncomingMessage>((resolve, reject) => get({ host: '127.0.0.1', port, agent: false }, resolve).on('error', reject));
    await new Promise((resolve) => res.once('data', resolve));
    res.destroy();
    await until(() => upstreamClosed, 'the upstream response to be cut');
    await until(() => slots.held() === 0, 'the slot to be released');
  });

  it('an upstream dying mid-body cuts the client connection (no hang) and frees the slot', async () => {
    const dying = await backend((_req, res) => {
      res.writeHead(200, { 'content-length': '1000000' });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const hooks = orderedHooks([upstream('a', dying.port)]);
    const slots = countSlots(hooks);
    const port = await proxyFor(hooks);

    const res = await new Promise<IncomingMessage>((resolve, reject) => get({ host: '127.0.0.1', port, agent: false }, resolve).on('error', reject));
    expect(res.statusCode).toBe(200);
    let received = 0;
    const outcome = await new Promise<string>((resolve) => {
      res.on('data', (c: Buffer) => (received += c.length));
      res.once('end', () => resolve('end'));
      res.once('aborted', () => resolve('aborted'));
      res.once('error', () => resolve('error'));
      res.once('close', () => resolve('close'));
    });
    expect(outcome).not.toBe('end');
    expect(received).toBeLessThan(1_000_000);
    await until(() => slots.held() === 0, 'the slot to be released');
  });
});
