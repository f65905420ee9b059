import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createTcpProxy, type TcpOutcome, type TcpRoutingHooks } from './tcp-proxy.js';
import { deadUrl, listen, shut } from './testing/support.js';
import type { Upstream } from './types.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map(shut));
});

async function echoServer(): Promise<URL> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  servers.push(server);
  return new URL(`tcp://127.0.0.1:${await listen(server)}`);
}

function hooksFor(upstreams: Upstream[]): TcpRoutingHooks & { reports: Array<[string, TcpOutcome['kind']]> } {
  const reports: Array<[string, TcpOutcome['kind']]> = [];
  return {
    reports,
    pick: (_req, tried) => upstreams.find((u) => !tried.has(u.id)),
    report: (id, outcome) => reports.push([id, outcome.kind]),
  };
}

async function dial(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

async function roundTrip(socket: Socket, text: string): Promise<string> {
  socket.write(text);
  return new Promise((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString())));
}

describe('tcp proxy', () => {
  it('round-trips bytes to an echo server, failing over a refusing upstream', async () => {
    const hooks = hooksFor([{ id: 'dead', url: await deadUrl('tcp') }, { id: 'echo', url: await echoServer() }]);
    const proxy = createTcpProxy({ hooks, connectTimeoutMs: 500, idleMs: 5000, log: silentLogger() });
    servers.push(proxy);
    const socket = await dial(await listen(proxy));
    expect(await roundTrip(socket, 'hello tcp')).toBe('hello tcp');
    expect(hooks.reports).toEqual([['dead', 'connect_failure'], ['echo', 'connected']]);
    expect(proxy.activeSessions().get('echo')).toBe(1);
  });

  it('closeSessionsTo ends live sessions to that upstream only', async () => {
    const hooks = hooksFor([{ id: 'echo', url: await echoServer() }]);
    const proxy = createTcpProxy({ hooks, connectTimeoutMs: 500, idleMs: 5000, log: silentLogger() });
    servers.push(proxy);
    const port = await listen(proxy);
    const a = await dial(port);
    const b = await dial(port);
    await Promise.all([roundTrip(a, 'a'), roundTrip(b, 'b')]);
    expect(proxy.activeSessions().get('echo')).toBe(2);
    expect(proxy.closeSessionsTo('other')).toBe(0);
    const closed = Promise.all([a, b].map((s) => new Promise((r) => s.once('close', r))));
    expect(proxy.closeSessionsTo('echo')).toBe(2);
    await closed;
    expect(proxy.activeSessions().size).toBe(0);
    expect(hooks.reports.filter(([, kind]) => kind === 'closed')).toHaveLength(2);
  });

  it('closes the client when no upstream accepts', async () => {
    const hooks = hooksFor([{ id: 'dead', url: await deadUrl('tcp') }]);
    const proxy = createTcpProxy({ hooks, connectTimeoutMs: 500, idleMs: 5000, log: silentLogger() });
    servers.push(proxy);
    const socket = await dial(await listen(proxy));
    await new Promise((r) => socket.once('close', r));
    expect(hooks.reports).toEqual([['dead', 'connect_failure']]);
  });
});

describe('tcp proxy: queue and closes racing connects', () => {
  it('holds a connection that finds no upstream until one is eligible (queueMs)', async () => {
    const echo = { id: 'echo', url: await echoServer() };
    let eligible = false;
    let wake: (() => void) | undefined;
    const hooks: TcpRoutingHooks = {
      pick: () => (eligible ? echo : undefined),
      report: () => undefined,
      waitForUpstream: (ms) => new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    };
    const proxy = createTcpProxy({ hooks, connectTimeoutMs: 500, idleMs: 5000, queueMs: 2_000, log: silentLogger() });
    servers.push(proxy);
    const socket = await dial(await listen(proxy));
    const answer = roundTrip(socket, 'queued');
    await new Promise((r) => setTimeout(r, 50));
    eligible = true;
    wake?.();
    expect(await answer).toBe('queued');
  });

  it('without a queue, or once it runs out, the client is closed', async () => {
    const hooks: TcpRoutingHooks = { pick: () => undefined, report: () => undefined, waitForUpstream: (ms) => new Promise((r) => setTimeout(r, ms)) };
    const proxy = createTcpProxy({ hooks, connectTimeoutMs: 500, idleMs: 5000, queueMs: 100, log: silentLogger() });
    servers.push(proxy);
    const started = performance.now();
    const socket = await dial(await listen(proxy));
    await new Promise((r) => socket.once('close', r));
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('a connect to an upstream whose sessions were closed meanwhile is dropped, and the client picks again', async () => {
    const old = { id: 'old', url: await echoServer() };
    const next = { id: 'new', url: await echoServer() };
    const reports: Array<[string, TcpOutcome['kind']]> = [];
    let closedOld = false;
    const proxy = createTcpProxy({
      hooks: {
        pick: () => {
          if (closedOld) return next;
          // The primary changes while this connection is being opened to the old one.
          queueMicrotask(() => {
            closedOld = true;
            proxy.closeSessionsTo('old');
          });
          return old;
        },
        report: (id, outcome) => reports.push([id, outcome.kind]),
      },
      connectTimeoutMs: 500, idleMs: 5000, log: silentLogger(),
    });
    servers.push(proxy);
    const socket = await dial(await listen(proxy));
    expect(await roundTrip(socket, 'x')).toBe('x');
    expect(proxy.activeSessions()).toEqual(new Map([['new', 1]]));
    expect(reports).toEqual([['new', 'connected']]);
  });
});
