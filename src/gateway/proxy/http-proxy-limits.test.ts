import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { send } from './testing/http-client.js';
import { createHttpProxy } from './http-proxy.js';
import { defaultLimits, defaultTimeouts, listen, orderedHooks, shut, upstream } from './testing/support.js';
import type { ProxyLimits, ProxyTimeouts } from './types.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map(shut));
});

async function setup(limits: Partial<ProxyLimits> = {}, timeouts: Partial<ProxyTimeouts> = {}): Promise<{ port: number; hits: () => number }> {
  let hits = 0;
  const backend = createServer((req: IncomingMessage, res: ServerResponse) => {
    hits++;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  servers.push(backend);
  const hooks = orderedHooks([upstream('a', await listen(backend))]);
  const proxy = createHttpProxy({ hooks, timeouts: { ...defaultTimeouts, ...timeouts }, limits: { ...defaultLimits, ...limits }, log: silentLogger() });
  servers.push(proxy);
  return { port: await listen(proxy), hits: () => hits };
}

/** Writes raw bytes and collects whatever comes back until the proxy closes the socket. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe('http proxy: request limits', () => {
  it('answers 431 to oversized headers', async () => {
    const { port, hits } = await setup({ maxHeaderBytes: 8 * 1024 });
    const answer = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain('"HEADERS_TOO_LARGE"');
    expect(hits()).toBe(0);
  });

  it('answers 413 to a declared body over the limit without contacting an upstream', async () => {
    const { port, hits } = await setup({ maxBodyBytes: 1000 });
    const res = await send(port, { method: 'POST', body: Buffer.alloc(2000) });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(hits()).toBe(0);
  });

  it('answers 413 to a chunked body that grows over the limit', async () => {
    const { port } = await setup({ maxBodyBytes: 1000, retryBufferBytes: 100 });
    const body = `${(3000).toString(16)}\r\n${'x'.repeat(3000)}\r\n0\r\n\r\n`;
    const answer = await raw(port, `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers 400 to malformed bytes and keeps serving', async () => {
    const { port } = await setup();
    const answer = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nNot a header line\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(port, '\x00\x01\x02 garbage\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect((await send(port)).status).toBe(200);
  });
});

describe('http proxy: slow clients', () => {
  it('cuts off a slowloris client at headerReadMs while serving others', async () => {
    const { port } = await setup({}, { headerReadMs: 1000 });
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    const started = performance.now();
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100);
    let i = 0;
    socket.write(head[i++] ?? 'G');
    const drip = setInterval(() => socket.writable && socket.write(head[i++ % head.length] ?? 'a'), 1000);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - started)));
    expect((await send(port)).status).toBe(200);
    const elapsed = await closed.finally(() => clearInterval(drip));
    expect(elapsed).toBeLessThan(2000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408 ')).toBe(true);
    expect((await send(port)).status).toBe(200);
  });

  it('cuts off a client that connects and sends nothing', async () => {
    const { port } = await setup({}, { headerReadMs: 1000 });
    const started = performance.now();
    await raw(port, '');
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
