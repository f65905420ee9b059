import { createHash } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createHttpProxy } from './http-proxy.js';
import { deadUrl, defaultLimits, defaultTimeouts, listen, orderedHooks, shut, upstream } from './testing/support.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const accept = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');

const servers: Server[] = [];
const sockets: Duplex[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map(shut));
});

/** A minimal WebSocket-handshake server that echoes every byte after the 101. */
async function echoUpgradeServer(seen: IncomingHttpHeaders[]): Promise<number> {
  const server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    sockets.push(socket);
    seen.push(req.headers);
    const key = String(req.headers['sec-websocket-key']);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  servers.push(server);
  return listen(server);
}

function upgradeThrough(port: number, key: string): Promise<{ status: number; headers: IncomingHttpHeaders; socket: Duplex }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': key, 'sec-websocket-version': '13' },
    });
    req.on('upgrade', (res, socket) => {
      sockets.push(socket);
      resolve({ status: res.statusCode ?? 0, headers: res.headers, socket });
    });
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

describe('http proxy: upgrade passthrough', () => {
  it('round-trips bytes over an upgraded connection, failing over a dead upstream', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const hooks = orderedHooks([upstream('dead', await deadUrl()), upstream('ws', await echoUpgradeServer(seen))]);
    const proxy = createHttpProxy({ hooks, timeouts: defaultTimeouts, limits: defaultLimits, log: silentLogger() });
    servers.push(proxy);
    const key = Buffer.from('0123456789abcdef').toString('base64');
    const { status, headers, socket } = await upgradeThrough(await listen(proxy), key);
    expect(status).toBe(101);
    expect(headers['sec-websocket-accept']).toBe(accept(key));
    socket.write('ping over the tunnel');
    const echoed = await new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
    expect(echoed).toBe('ping over the tunnel');
    expect(seen[0]).toMatchObject({ upgrade: 'websocket', connection: 'upgrade', 'x-forwarded-for': '127.0.0.1' });
    expect(hooks.reports.map((r) => [r.id, r.outcome.kind])).toEqual([['dead', 'connect_failure'], ['ws', 'response']]);
  });

  it('answers 503 on the raw socket when no upstream is available', async () => {
    const proxy = createHttpProxy({ hooks: orderedHooks([]), timeouts: defaultTimeouts, limits: defaultLimits, log: silentLogger() });
    servers.push(proxy);
    await expect(upgradeThrough(await listen(proxy), 'a2V5')).rejects.toThrow('no upgrade: 503');
  });
});
