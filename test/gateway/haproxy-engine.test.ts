/**
 * The HAProxy engine with real HAProxy (master-worker, supervised), real
 * upstream processes on free ports and a load loop: an upstream SIGKILLed under
 * load, a configuration reload under load and a drain under load fail no
 * request; the probes' quorum decisions reach HAProxy's server states.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type ServiceConfig } from '../../src/config/index.js';
import { freePort } from '../../src/core/net.js';
import { HaproxyEngine } from '../../src/gateway/haproxy/engine.js';
import { Gateway } from '../../src/gateway/index.js';
import { EventBus } from '../../src/events/index.js';
import type { ProbeEvents, ProbeTarget } from '../../src/probes/index.js';
import { Registry } from 'prom-client';
import { memoryLogger } from '../../src/testing/memory-logger.js';
import { createTestCa } from '../../src/testing/test-ca.js';
import { load, percentile, Upstreams } from './chaos-helpers.js';

const upstreams = new Upstreams();
let engine: HaproxyEngine;
let ports: number[];
let listen: string;
/** The upstream process on each port, to SIGKILL one. */
const started = new Map<number, ChildProcess>();

function service(extra: Record<string, unknown> = {}): Array<[string, ServiceConfig]> {
  return Object.entries(configSchema.parse({
    services: {
      api: {
        listen,
        endpoints: ports.map((port, i) => ({ url: `http://127.0.0.1:${port}`, name: `u${i}` })),
        health_check: { interval: '500ms', timeout: '250ms', fall: 2, rise: 1 },
        retries: { attempts: 3, retry_on: ['connect-failure', 'reset', 'gateway-error'] },
        ...extra,
      },
    },
  }).services);
}

async function startAll(): Promise<void> {
  ports = [await freePort(), await freePort(), await freePort()];
  listen = `127.0.0.1:${await freePort()}`;
  await Promise.all(ports.map(async (port, i) => started.set(port, await upstreams.start(port, `u${i}`))));
}

async function serverStatus(id: string): Promise<string | undefined> {
  return (await engine.stats()).find((r) => r.proxy === 'be_api' && r.server === id)?.status;
}

/** Until `predicate` holds on HAProxy's stats (a state change HAProxy applies on its own clock). */
async function until(predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await predicate())) {
    if (performance.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GETs, each on its own connection (no keep-alive): a refused or reset connection is a failure. */
function loadNewConnections(url: string, concurrency: number): { ok: number; failed: string[]; latenciesMs: number[]; stop(): Promise<void> } {
  const state = { ok: 0, failed: [] as string[], latenciesMs: [] as number[], stop: async () => undefined };
  let running = true;
  const agent = new Agent({ keepAlive: false });
  const once = () => new Promise<void>((resolve) => {
    const started = performance.now();
    get(url, { agent, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        state.latenciesMs.push(performance.now() - started);
        if (res.statusCode === 200) state.ok++;
        else state.failed.push(String(res.statusCode));
        resolve();
      });
    }).on('error', (err) => {
      state.failed.push(String(err));
      resolve();
    });
  });
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) await once();
  });
  state.stop = async () => {
    running = false;
    await Promise.all(loops);
    agent.destroy();
  };
  return state;
}

function report(name: string, l: { ok: number; failed: string[]; latenciesMs: number[] }): void {
  console.log(`${name}: ${l.ok} ok, ${l.failed.length} failed, p50 ${percentile(l.latenciesMs, 50).toFixed(1)} ms, p99 ${percentile(l.latenciesMs, 99).toFixed(1)} ms`);
}

describe('haproxy engine with real HAProxy', () => {
  beforeAll(async () => {
    await startAll();
    engine = new HaproxyEngine({}, memoryLogger().log);
    await engine.start(service());
  });
  afterAll(async () => {
    await engine?.stop(AbortSignal.timeout(5_000));
    upstreams.killAll();
  });
  afterEach(async () => {
    for (const id of ['u0', 'u1', 'u2']) engine.pool('api')?.setAdminState(id, 'enabled');
    await engine.poolChanged('api');
  });

  it('serves through every upstream, and follows the quorum: down → MAINT, up → back', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) seen.add(await (await fetch(`http://${listen}/`)).text());
    expect([...seen].sort()).toEqual(['u0', 'u1', 'u2']);
    engine.setHealth('api', 'u1', 'down');
    await engine.poolChanged('api');
    expect(await serverStatus('u1')).toBe('MAINT');
    engine.setHealth('api', 'u1', 'up');
    await engine.poolChanged('api');
    expect(await serverStatus('u1')).not.toBe('MAINT');
  });

  it('drains an endpoint under load: no new requests reach it, none fail', async () => {
    const traffic = load(`http://${listen}/`, 8);
    await until(async () => traffic.ok > 200);
    engine.pool('api')?.setAdminState('u2', 'draining');
    await engine.poolChanged('api');
    expect(await serverStatus('u2')).toBe('DRAIN');
    const before = traffic.byUpstream.get('u2') ?? 0;
    const okBefore = traffic.ok;
    await until(async () => traffic.ok > okBefore + 300);
    await traffic.stop();
    report('drain', traffic);
    expect(traffic.byUpstream.get('u2') ?? 0).toBe(before);
    expect(traffic.failed).toEqual([]);
  });

  it('reloads its configuration under load without failing a request on a new connection', async () => {
    const fresh = loadNewConnections(`http://${listen}/`, 4);
    const keepAlive = load(`http://${listen}/`, 4);
    await until(async () => fresh.ok > 100 && keepAlive.ok > 100);
    const pid = engine.pid;
    await engine.reload(service({ timeout: '20s', load_balancing: { algorithm: 'least_connections' } }));
    const okBefore = fresh.ok;
    await until(async () => fresh.ok > okBefore + 200);
    await Promise.all([fresh.stop(), keepAlive.stop()]);
    report('reload, a connection per request', fresh);
    // HAProxy 2.6's old worker closes idle keep-alive connections (2.7 adds idle-close-on-response): a request sent on one at that instant sees "other side closed".
    report('reload, keep-alive (idle connections closed by the old worker)', keepAlive);
    expect(engine.pid).toBe(pid);
    expect(fresh.failed).toEqual([]);
  });

  it('fails no request when an upstream is SIGKILLed under load (retries + redispatch)', async () => {
    const traffic = load(`http://${listen}/`, 8);
    await until(async () => traffic.ok > 200);
    started.get(ports[0] as number)?.kill('SIGKILL');
    const okBefore = traffic.ok;
    await until(async () => (await serverStatus('u0')) === 'DOWN');
    await until(async () => traffic.ok > okBefore + 300);
    await traffic.stop();
    report('sigkill', traffic);
    expect(traffic.failed).toEqual([]);
  });
});


describe('Gateway with gateway.engine: haproxy', () => {
  it('serves the service through HAProxy, follows target.state events, and gives its pool to the admin API', async () => {
    const [p0, p1, port] = [await freePort(), await freePort(), await freePort()];
    const local = new Upstreams();
    await Promise.all([local.start(p0, 'a'), local.start(p1, 'b')]);
    const bus = new EventBus<ProbeEvents>();
    const config = configSchema.parse({
      gateway: { engine: 'haproxy' },
      services: { web: { listen: `127.0.0.1:${port}`, endpoints: [{ name: 'a', url: `http://127.0.0.1:${p0}` }, { name: 'b', url: `http://127.0.0.1:${p1}` }] } },
    });
    const gateway = new Gateway(config, bus, new Registry(), memoryLogger().log);
    try {
      await gateway.start();
      expect(['a', 'b']).toContain(await (await fetch(`http://127.0.0.1:${port}/`)).text());
      bus.emit('target.state', { target: { owner: { kind: 'service', name: 'web' }, member: 'a' } as ProbeTarget, from: 'up', to: 'down', at: Date.now(), reason: 'test' });
      await gateway.poolChanged('web');
      for (let i = 0; i < 6; i++) expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('b');
      expect(gateway.pool('web')?.get('a')?.health).toBe('down');
      expect(gateway.snapshot().web).toMatchObject({ engine: 'haproxy', listen: `127.0.0.1:${port}` });
    } finally {
      await gateway.stop(AbortSignal.timeout(5_000));
      local.killAll();
    }
  });
});

describe('haproxy engine: TLS termination', () => {
  it('serves the certificate SNI picks, from the same PEM files as the built-in engine, with HSTS', async () => {
    const ca = createTestCa();
    const [up, port] = [await freePort(), await freePort()];
    const local = new Upstreams();
    await local.start(up, 'tls-upstream');
    const first = ca.issue({ names: ['one.test'] });
    const second = ca.issue({ names: ['two.test'] });
    const tlsEngine = new HaproxyEngine({}, memoryLogger().log);
    try {
      await tlsEngine.start(Object.entries(configSchema.parse({
        services: { web: { listen: `127.0.0.1:${port}`, endpoints: [{ url: `http://127.0.0.1:${up}` }], tls: { certificates: [{ cert: first.cert, key: first.key }, { cert: second.cert, key: second.key, server_names: ['two.test'] }], hsts: true } } },
      }).services));
      const ask = (servername: string) => new Promise<{ body: string; subject: string; hsts: string | undefined }>((resolve, reject) => {
        const req = httpsGet({ host: '127.0.0.1', port, servername, ca: readFileSync(ca.caFile), path: '/', agent: false }, (res) => {
          const subject = (res.socket as TLSSocket).getPeerCertificate().subject.CN;
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ body, subject: String(subject), hsts: res.headers['strict-transport-security'] }));
        });
        req.on('error', reject);
      });
      expect(await ask('two.test')).toEqual({ body: 'tls-upstream', subject: 'two.test', hsts: 'max-age=31536000' });
      expect((await ask('one.test')).subject).toBe('one.test');
    } finally {
      await tlsEngine.stop(AbortSignal.timeout(5_000));
      local.killAll();
      ca.cleanup();
    }
  });
});
