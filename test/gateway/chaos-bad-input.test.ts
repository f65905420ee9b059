import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, freePort, Harness, startDaemon, waitFor, type Daemon } from '../daemon/helpers.js';
import { load, poolStatus, rssKiB, Upstreams } from './chaos-helpers.js';

const h = new Harness();
const upstreams = new Upstreams();
const sockets = new Set<Socket>();
let daemon: Daemon;
let strict: number;
let relaxed: number;

/**
 * One daemon for the whole file: `api` with a 1 s header read timeout (the slow client
 * test), `idle` with the defaults (idle keep-alive connections must outlive the run).
 */
beforeAll(async () => {
  const upstreamPort = await freePort();
  await upstreams.start(upstreamPort, 'e0');
  strict = await freePort();
  relaxed = await freePort();
  const service = (listen: number, extra: string): string => `    listen: 127.0.0.1:${listen}
    endpoints:
      - { url: "http://127.0.0.1:${upstreamPort}", name: e0, zone: z1 }
    health_check: { path: /health, interval: 500ms, timeout: 300ms, fall: 2, rise: 1 }
${extra}`;
  daemon = await startDaemon(h, { yaml: `name: gateway-chaos-bad-input
zones:
  z1: { region: r1 }
services:
  api:
${service(strict, '    limits: { header_read_timeout: 1s }\n')}
  idle:
${service(relaxed, '')}` });
  const token = await createToken(h, daemon.dataDir, 'chaos');
  for (const name of ['api', 'idle']) {
    await waitFor(async () => ((await poolStatus(daemon.base, token, name)).every((e) => e.health === 'up') ? true : undefined), `${name} up`);
  }
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  upstreams.killAll();
  await h.cleanup();
});

interface Exchange { data: string; closed: boolean; elapsedMs: number }

/** Write raw bytes, collect what comes back until the server closes or `waitMs` passes. */
async function raw(port: number, bytes: string | Buffer, waitMs = 5_000): Promise<Exchange> {
  const started = performance.now();
  const socket = connect(port, '127.0.0.1');
  sockets.add(socket);
  let data = '';
  socket.setEncoding('latin1').on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => undefined);
  socket.write(bytes);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.destroy();
  sockets.delete(socket);
  return { data, closed, elapsedMs: performance.now() - started };
}

async function served(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  return res.text();
}

function statusOf(data: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(data)?.[1]);
}

/** The lower of this process's and the daemon's open-file limits. */
async function openFileLimit(pid: number): Promise<number> {
  const soft = async (path: string): Promise<number> => {
    const line = (await readFile(path, 'utf8')).split('\n').find((l) => l.startsWith('Max open files'));
    const value = line?.split(/\s{2,}/)[1];
    return value === 'unlimited' ? Infinity : Number(value);
  };
  return Math.min(await soft('/proc/self/limits'), await soft(`/proc/${pid}/limits`));
}

describe('gateway listener under bad and hostile input (real processes)', () => {
  it('malformed request bytes get 400 and the gateway keeps serving', async () => {
    const cases = [
      'GARBAGE\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n',
      'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello',
      'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), // a TLS ClientHello on a plain port
    ];
    for (const bytes of cases) {
      const result = await raw(strict, bytes);
      expect(result.closed, JSON.stringify(String(bytes))).toBe(true);
      expect(statusOf(result.data), JSON.stringify(String(bytes))).toBe(400);
      expect(await served(strict)).toBe('e0');
    }
  });

  it('a 100 KiB header gets 431 and the gateway keeps serving', async () => {
    const result = await raw(strict, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
    expect(result.closed).toBe(true);
    expect(statusOf(result.data)).toBe(431);
    expect(result.data).toContain('HEADERS_TOO_LARGE');
    expect(await served(strict)).toBe('e0');
  });

  it('a client sending headers one byte per second is cut off within header_read_timeout while others are served', async () => {
    const traffic = load(`http://127.0.0.1:${strict}/`, 4);
    const started = performance.now();
    const socket = connect(strict, '127.0.0.1');
    sockets.add(socket);
    let data = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (data += chunk));
    socket.on('error', () => undefined);
    const request = 'GET / HTTP/1.1\r\nHost: slow.example\r\nX-Padding: ' + 'p'.repeat(60) + '\r\n\r\n';
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < request.length) socket.write(request[sent++] as string);
    }, 1_000);
    socket.write(request[sent++] as string);
    const closedAfterMs = await new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started)));
    clearInterval(drip);
    sockets.delete(socket);
    await traffic.stop();
    console.log(`slow headers: cut off after ${closedAfterMs.toFixed(0)} ms having sent ${sent} bytes; answer ${JSON.stringify(data.split('\r\n')[0])}; ${traffic.ok} other requests served meanwhile`);
    // header_read_timeout 1 s, checked every 250 ms; generous margin for a loaded machine.
    expect(closedAfterMs).toBeLessThan(1_000 + 2_000);
    expect(sent).toBeLessThan(request.length);
    if (data !== '') expect(statusOf(data)).toBe(408);
    expect(traffic.failed).toEqual([]);
    expect(traffic.ok).toBeGreaterThan(20);
  });

  it('2,000 connections that never send a byte are all closed by header_read_timeout while others are served', async () => {
    const traffic = load(`http://127.0.0.1:${strict}/`, 4);
    const started = performance.now();
    const closedAt = await Promise.all(Array.from({ length: 2_000 }, () => new Promise<number>((resolve) => {
      const socket = connect(strict, '127.0.0.1');
      sockets.add(socket);
      socket.on('error', () => undefined);
      // Read (and drop) whatever comes back: a socket nobody reads never sees the server's FIN.
      socket.resume();
      socket.once('close', () => {
        sockets.delete(socket);
        resolve(performance.now() - started);
      });
    })));
    await traffic.stop();
    const last = Math.max(...closedAt);
    console.log(`silent connections: 2000 closed, the last after ${last.toFixed(0)} ms; ${traffic.ok} other requests served meanwhile`);
    expect(last).toBeLessThan(1_000 + 4_000);
    expect(traffic.failed).toEqual([]);
    expect(await served(strict)).toBe('e0');
  });

  it('10,000 idle keep-alive client connections: a normal request is still served and RSS growth stays bounded', async () => {
    const pid = daemon.proc.child.pid as number;
    const limit = await openFileLimit(pid);
    // Each process has its own RLIMIT_NOFILE: this one holds the client ends, the daemon
    // the server ends (plus its own files and upstream sockets), so each needs 10,000 + margin.
    const margin = 1_000;
    const wanted = 10_000;
    const count = Math.max(0, Math.min(wanted, limit - margin));
    if (count < wanted) console.log(`open-file limit ${limit} is below ${wanted + margin}: opening ${count} idle connections instead of ${wanted}`);

    for (let i = 0; i < 20; i++) await served(relaxed);
    const before = await rssKiB(pid);
    const opened: Socket[] = [];
    const batch = 250;
    for (let start = 0; start < count; start += batch) {
      await Promise.all(Array.from({ length: Math.min(batch, count - start) }, () => new Promise<void>((resolve, reject) => {
        const socket = connect(relaxed, '127.0.0.1');
        sockets.add(socket);
        opened.push(socket);
        socket.once('error', reject);
        let data = '';
        socket.setEncoding('latin1');
        const onData = (chunk: string): void => {
          data += chunk;
          // One response (its body, chunked or not, carries 'e0'), then the connection stays open and idle.
          const head = data.indexOf('\r\n\r\n');
          if (head >= 0 && data.slice(head + 4).includes('e0')) {
            socket.off('data', onData);
            socket.off('error', reject);
            socket.on('error', () => undefined);
            if (statusOf(data) === 200) resolve();
            else reject(new Error(data.slice(0, 200)));
          }
        };
        socket.on('data', onData);
        socket.write('GET / HTTP/1.1\r\nHost: idle.example\r\n\r\n');
      })));
    }
    const after = await rssKiB(pid);
    const growthMiB = (after - before) / 1024;
    console.log(`RSS +${growthMiB.toFixed(1)} MiB for ${count} idle connections (${(before / 1024).toFixed(1)} → ${(after / 1024).toFixed(1)} MiB, ${((after - before) / Math.max(1, count)).toFixed(2)} KiB per connection)`);

    expect(await served(relaxed)).toBe('e0');
    expect(await served(strict)).toBe('e0');
    const stillOpen = opened.filter((s) => !s.destroyed && s.readyState === 'open').length;
    expect(stillOpen).toBe(count);
    expect(growthMiB).toBeLessThan(400);

    for (const socket of opened) {
      socket.destroy();
      sockets.delete(socket);
    }
    expect(await served(relaxed)).toBe('e0');
  }, 180_000);
});
