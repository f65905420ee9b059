import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText, type BulwarkConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { EventBus } from '../../src/events/index.js';
import { ProbeEngine, type ProbeEvents } from '../../src/probes/index.js';
import type { ProbeResultRow, StateChangeRow } from '../../src/probes/history-writer.js';

class MemorySink {
  results: ProbeResultRow[] = [];
  changes: StateChangeRow[] = [];
  async recordProbeResults(rows: ProbeResultRow[]) { this.results.push(...rows); }
  async recordStateChange(change: StateChangeRow) { this.changes.push(change); }
}

const servers: Server[] = [];
const engines: ProbeEngine[] = [];

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop(AbortSignal.timeout(1000));
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

async function healthServer(status = 200): Promise<{ port: number; server: Server; setStatus(s: number): void }> {
  let current = status;
  const server = createServer((_req, res) => { res.writeHead(current).end('ok'); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, server, setStatus: (s) => { current = s; } };
}

function config(ports: number[], extra = ''): BulwarkConfig {
  const endpoints = ports.map((p, i) => `      - { url: "http://127.0.0.1:${p}", name: e${i} }`).join('\n');
  const yaml = `services:\n  api:\n    endpoints:\n${endpoints}\n    health_check: { interval: 100ms, timeout: 80ms, fall: 2, rise: 1${extra} }\n`;
  const loaded = parseConfigText(yaml, 'test.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  return loaded.config;
}

function startEngine(cfg: BulwarkConfig) {
  const bus = new EventBus<ProbeEvents>();
  const sink = new MemorySink();
  const events: Array<ProbeEvents['target.state'] | ProbeEvents['owner.state']> = [];
  bus.on('target.state', (e) => events.push(e));
  bus.on('owner.state', (e) => events.push(e));
  const engine = new ProbeEngine({ config: cfg, log: silentLogger(), bus, history: sink, registry: new Registry() });
  engines.push(engine);
  return { engine, sink, events };
}

async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const statusOf = (engine: ProbeEngine, id: string) => engine.targetViews().find((t) => t.id === id)?.status;
const ownerOf = (engine: ProbeEngine) => engine.ownerViews().find((o) => o.name === 'api')?.status;

describe('ProbeEngine against real HTTP servers', () => {
  it('marks an endpoint down after `fall` failures and up again after `rise` successes, publishing each change', async () => {
    const a = await healthServer();
    const b = await healthServer();
    const { engine, events, sink } = startEngine(config([a.port, b.port]));
    await engine.start();
    await until(() => statusOf(engine, 'service/api/e0') === 'up' && statusOf(engine, 'service/api/e1') === 'up', 'both up');
    expect(ownerOf(engine)).toBe('up');

    a.setStatus(503);
    await until(() => statusOf(engine, 'service/api/e0') === 'down', 'e0 down');
    expect(ownerOf(engine)).toBe('up');
    const down = events.find((e) => 'target' in e && e.target.id === 'service/api/e0' && e.to === 'down');
    expect(down).toMatchObject({ from: 'up', to: 'down' });

    b.setStatus(500);
    await until(() => ownerOf(engine) === 'down', 'service down');
    a.setStatus(200);
    await until(() => ownerOf(engine) === 'up', 'service up again');

    await engine.flushHistory();
    expect(sink.results.some((r) => !r.ok && r.reason === 'status')).toBe(true);
    expect(sink.changes.map((c) => `${c.subjectKind}:${c.subject}:${c.to}`)).toEqual(expect.arrayContaining(['service:api:down', 'service:api:up', 'target:service/api/e0:down']));
  });

  it('a killed server is recorded as refused, and the target goes down', async () => {
    const a = await healthServer();
    const { engine, sink } = startEngine(config([a.port]));
    await engine.start();
    await until(() => statusOf(engine, 'service/api/e0') === 'up', 'up');
    a.server.closeAllConnections();
    await new Promise((resolve) => a.server.close(resolve));
    servers.splice(servers.indexOf(a.server), 1);
    await until(() => statusOf(engine, 'service/api/e0') === 'down', 'down');
    await engine.flushHistory();
    expect(sink.results.filter((r) => !r.ok).map((r) => r.reason)).toContain('refused');
  });

  it('reload adds and removes targets and keeps the state of unchanged ones', async () => {
    const a = await healthServer();
    const b = await healthServer();
    const { engine } = startEngine(config([a.port]));
    await engine.start();
    await until(() => statusOf(engine, 'service/api/e0') === 'up', 'e0 up');
    const since = engine.targetViews()[0]?.since;
    await engine.reload(config([a.port, b.port]));
    expect(engine.targetViews()).toHaveLength(2);
    expect(engine.targetViews().find((t) => t.id === 'service/api/e0')?.since).toBe(since);
    await until(() => statusOf(engine, 'service/api/e1') === 'up', 'e1 up');
    await engine.reload(config([b.port].map((p) => p)));
    expect(engine.targetViews().map((t) => t.id)).toEqual(['service/api/e0']);
  });

  it('does not count failures during the start-up grace period', async () => {
    const a = await healthServer(503);
    const { engine } = startEngine(config([a.port], ', grace_period: 600ms'));
    await engine.start();
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(statusOf(engine, 'service/api/e0')).toBe('unknown');
    await until(() => statusOf(engine, 'service/api/e0') === 'down', 'down after grace');
  });
});
