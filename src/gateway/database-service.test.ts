import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText, type BulwarkConfig } from '../config/index.js';
import type { BulwarkError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { Lifecycle, type Subsystem } from '../core/lifecycle.js';
import { EventBus } from '../events/index.js';
import type { ProbeEvents } from '../probes/index.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { freePort } from '../testing/net.js';
import type { PrimaryAddress, PrimaryListener, PrimarySource } from './database-services.js';
import { Gateway } from './gateway.js';
import { listen, shut } from './proxy/testing/support.js';
import type { TcpProxy } from './proxy/index.js';

/** A primary tracker the test drives by hand. */
class HandSource extends EventEmitter<{ primary: [PrimaryAddress | undefined] }> implements PrimarySource {
  current: PrimaryAddress | undefined;
  started = 0;
  stopped = 0;
  declare on: (event: 'primary', listener: PrimaryListener) => this;
  async start(): Promise<void> {
    this.started++;
  }
  async stop(): Promise<void> {
    this.stopped++;
  }
  set(primary: PrimaryAddress | undefined): void {
    this.current = primary;
    this.emit('primary', primary);
  }
}

const servers: Server[] = [];
const sockets: Socket[] = [];
const gateways: Gateway[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(gateways.splice(0).map((g) => g.stop(AbortSignal.timeout(1_000))));
  await Promise.all(servers.splice(0).map(shut));
});

/** A TCP server that answers every chunk with its own name. */
async function member(name: string): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => socket.write(name));
  });
  servers.push(server);
  return listen(server);
}

async function dial(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

function ask(socket: Socket): Promise<string> {
  socket.write('?');
  return new Promise((resolve, reject) => {
    socket.once('data', (c: Buffer) => resolve(c.toString()));
    socket.once('close', () => reject(new Error('closed')));
  });
}

function closed(socket: Socket): Promise<void> {
  return socket.destroyed ? Promise.resolve() : new Promise((r) => socket.once('close', () => r()));
}

function config(yaml: string): BulwarkConfig {
  const loaded = parseConfigText(yaml, 'test.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  return loaded.config;
}

async function start(yaml: string, source: HandSource | undefined): Promise<Gateway> {
  const gateway = new Gateway(config(yaml), new EventBus<ProbeEvents>(), new Registry(), silentLogger(), {
    primaries: () => source,
  });
  gateways.push(gateway);
  await gateway.start();
  return gateway;
}

function dbYaml(listenPort: number, p1: number, p2: number): string {
  return `databases:
  main-db:
    postgres:
      listen: 127.0.0.1:${listenPort}
      members:
        - { name: m1, host: 127.0.0.1, port: ${p1} }
        - { name: m2, host: 127.0.0.1, port: ${p2} }
`;
}

const at = (name: string, port: number): PrimaryAddress => ({ member: name, host: '127.0.0.1', port });

describe('Gateway: a database service follows its primary', () => {
  it('routes to no one before the first decision, then only to the primary; a change closes the old primary\'s sessions', async () => {
    const [p1, p2, port] = [await member('m1'), await member('m2'), await freePort()];
    const source = new HandSource();
    const gateway = await start(dbYaml(port, p1, p2), source);
    expect(source.started).toBe(1);
    const snapshot = gateway.snapshot()['db:main-db'] as { primary: string | null; endpoints: Array<{ id: string; health: string }> };
    expect(snapshot.primary).toBeNull();
    expect(snapshot.endpoints.map((e) => e.health)).toEqual(['down', 'down']);

    // A connection made before any primary is known waits (bounded) and lands on the primary once it is.
    const early = await dial(port);
    const earlyAnswer = ask(early);
    await new Promise((r) => setTimeout(r, 50));
    source.set(at('m1', p1));
    expect(await earlyAnswer).toBe('m1');
    const onM1 = await dial(port);
    expect(await ask(onM1)).toBe('m1');

    // The old primary keeps running: only the gateway can close these sessions.
    source.set(undefined);
    await Promise.all([closed(early), closed(onM1)]);
    const proxy = gateway.service('db:main-db')?.server as TcpProxy;
    expect(proxy.activeSessions().size).toBe(0);

    const during = await dial(port);
    const duringAnswer = ask(during);
    source.set(at('m2', p2));
    expect(await duringAnswer).toBe('m2');
    expect(await ask(await dial(port))).toBe('m2');
    expect((gateway.snapshot()['db:main-db'] as { primary: string }).primary).toBe('m2');
  });

  it('without a tracker the listener routes to no one (connections are closed after the queue wait)', async () => {
    const [p1, p2, port] = [await member('m1'), await member('m2'), await freePort()];
    await start(dbYaml(port, p1, p2), undefined);
    const socket = await dial(port);
    await expect(ask(socket)).rejects.toThrow('closed');
  }, 10_000);

  it('a reload that keeps the database keeps its tracker and its sessions; removing listen stops it', async () => {
    const [p1, p2, port] = [await member('m1'), await member('m2'), await freePort()];
    const source = new HandSource();
    const yaml = dbYaml(port, p1, p2);
    const gateway = await start(yaml, source);
    source.set(at('m1', p1));
    const session = await dial(port);
    expect(await ask(session)).toBe('m1');
    await gateway.reload(config(`${yaml}services:\n  other:\n    endpoints: [{ url: "http://127.0.0.1:1" }]\n`));
    expect(await ask(session)).toBe('m1');
    expect(source.started).toBe(1);
    session.destroy();
    await gateway.reload(config(yaml.replace(/ {6}listen: .*\n/, '')));
    expect(source.stopped).toBe(1);
    expect(gateway.snapshot()['db:main-db']).toBeUndefined();
  });
});

describe('Gateway: ordinary TCP services when an endpoint is marked down', () => {
  it('keep their sessions (on_marked_down is opt-in): only new connections avoid the endpoint', async () => {
    const [p1, p2, port] = [await member('e1'), await member('e2'), await freePort()];
    const bus = new EventBus<ProbeEvents>();
    const gateway = new Gateway(config(`services:
  db:
    protocol: tcp
    listen: 127.0.0.1:${port}
    endpoints:
      - { name: e1, url: "127.0.0.1:${p1}" }
      - { name: e2, url: "127.0.0.1:${p2}" }
`), bus, new Registry(), silentLogger());
    gateways.push(gateway);
    await gateway.start();
    gateway.service('db')?.setHealth('e2', 'down');
    const session = await dial(port);
    expect(await ask(session)).toBe('e1');
    gateway.service('db')?.setHealth('e2', 'up');
    gateway.service('db')?.setHealth('e1', 'down');
    expect(await ask(session)).toBe('e1');
    expect(await ask(await dial(port))).toBe('e2');
  });
});

describe('Gateway: what start and stop log about a database service', () => {
  const tierLines = (lines: Array<Record<string, unknown>>) =>
    lines.filter((l) => l.msg === 'traffic failed over' || l.msg === 'traffic failed back').map((l) => `${String(l.msg)}: ${String(l.from)}>${String(l.to)}`);

  it('start-up waits for the first decision and a deliberate stop is quiet; a real failover between them still logs and counts', async () => {
    const [p1, p2, port] = [await member('m1'), await member('m2'), await freePort()];
    const source = new HandSource();
    const { log, lines } = memoryLogger();
    const registry = new Registry();
    const gateway = new Gateway(config(dbYaml(port, p1, p2)), new EventBus<ProbeEvents>(), registry, log, { primaries: () => source });
    // As the daemon stops: the databases subsystem (started after the gateway) stops first, and with it
    // the primary, which the tracker reports before the gateway itself is stopped.
    const databases: Subsystem = { name: 'postgres-ha', start: async () => undefined, stop: async () => source.set(undefined) };
    const lifecycle = new Lifecycle([gateway, databases], silentLogger());
    await lifecycle.start();

    expect(tierLines(lines)).toEqual([]);
    expect(lines.filter((l) => String(l.msg).startsWith('waiting for the first health results'))).toEqual([
      expect.objectContaining({ level: 30, service: 'db:main-db' }),
    ]);
    source.set(at('m1', p1));
    expect(await ask(await dial(port))).toBe('m1');
    expect(tierLines(lines)).toEqual([]);
    expect(lines.filter((l) => l.msg === 'first health results: traffic is routed')).toEqual([
      expect.objectContaining({ level: 30, service: 'db:main-db', to: 'primary', reason: expect.stringMatching(/^primary tier healthy/) }),
    ]);

    // A real failover and failback: logged at warn and counted.
    source.set(undefined);
    source.set(at('m2', p2));
    expect(await ask(await dial(port))).toBe('m2');
    expect(tierLines(lines)).toEqual(['traffic failed over: primary>none', 'traffic failed back: none>primary']);
    expect(lines.filter((l) => l.msg === 'traffic failed over')).toEqual([expect.objectContaining({ level: 40, reason: 'no eligible endpoint in any tier' })]);

    await lifecycle.stop(2_000);
    expect(source.stopped).toBe(1);
    expect(tierLines(lines)).toEqual(['traffic failed over: primary>none', 'traffic failed back: none>primary']);
    const metrics = await registry.metrics();
    expect(metrics).toContain('bulwark_gateway_tier_changes_total{service="db:main-db",direction="failover"} 1\n');
    expect(metrics).toContain('bulwark_gateway_tier_changes_total{service="db:main-db",direction="failback"} 1\n');
  });
});

describe('Gateway: a listen address already taken', () => {
  it('names the key the user wrote (services.NAME.listen, databases.NAME.postgres.listen) and says what to do', async () => {
    const [p1, p2] = [await member('m1'), await member('m2')];
    const blocker = createServer();
    servers.push(blocker);
    const taken = await listen(blocker);
    const failure = async (yaml: string): Promise<BulwarkError> => {
      const gateway = new Gateway(config(yaml), new EventBus<ProbeEvents>(), new Registry(), silentLogger(), { primaries: () => new HandSource() });
      return gateway.start().then(() => {
        gateway.stop(AbortSignal.timeout(1_000)).catch(() => undefined);
        throw new Error('the gateway started on a taken address');
      }, (err: unknown) => err as BulwarkError);
    };

    const database = await failure(dbYaml(taken, p1, p2));
    expect(database).toMatchObject({
      code: 'LISTEN_FAILED',
      message: `the front door of database main-db cannot listen on 127.0.0.1:${taken} (databases.main-db.postgres.listen): the address is already in use`,
      hint: `another bulwark up is probably running with this configuration; stop it, or change databases.main-db.postgres.listen (or stop whatever else holds 127.0.0.1:${taken})`,
    });
    expect(database.message + String(database.hint)).not.toContain('db:');

    const service = await failure(`services:
  web:
    listen: 127.0.0.1:${taken}
    endpoints: [{ url: "http://127.0.0.1:${p1}" }]
`);
    expect(service).toMatchObject({ code: 'LISTEN_FAILED', message: expect.stringContaining(`service web cannot listen on 127.0.0.1:${taken} (services.web.listen)`) });
  });
});
