import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../core/logger.js';
import { Agent, type AgentOptions } from './agent.js';
import { FakeControlPlane } from './testing/fake-control-plane.js';
import type { Assignment } from './types.js';

interface Target {
  port: number;
  hits: number;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function target(body = '{"state":"ok"}'): Promise<Target> {
  const t: Target = { port: 0, hits: 0, close: async () => undefined };
  const server: Server = createServer((_req, res) => {
    t.hits += 1;
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.port = (server.address() as AddressInfo).port;
  t.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  cleanups.push(t.close);
  return t;
}

async function controlPlane(): Promise<FakeControlPlane> {
  const cp = new FakeControlPlane();
  await cp.listen();
  cleanups.push(() => cp.close());
  return cp;
}

function logs(): { lines: Array<Record<string, unknown>>; messages(level?: number): string[] } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    messages: (level) => lines.filter((l) => level === undefined || l.level === level).map((l) => String(l.msg)),
  };
}

function startAgent(cp: FakeControlPlane, captured: ReturnType<typeof logs>, extra: Partial<AgentOptions> = {}): Agent {
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void captured.lines.push(JSON.parse(line) as Record<string, unknown>) } });
  const agent = new Agent({ url: cp.url, token: 'test-token-123', name: 'agent-a', zone: 'z2', log, heartbeatMs: 50, flushMs: 30, backoffBaseMs: 20, backoffMaxMs: 100, ...extra });
  void agent.start();
  cleanups.push(() => agent.stop(AbortSignal.timeout(2000)));
  return agent;
}

function http(id: string, port: number, intervalMs = 50, extra: Record<string, unknown> = {}): Assignment {
  return { id, check: { type: 'http', spec: { url: `http://127.0.0.1:${port}/health`, ...extra } }, intervalMs, timeoutMs: 500 };
}

describe('Agent', () => {
  it('runs its assignments and sends the results with its name, zone and token', async () => {
    const cp = await controlPlane();
    const t = await target();
    cp.assignments = [http('service/api/a', t.port)];
    startAgent(cp, logs());
    await expect.poll(() => cp.results('service/api/a').length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const request = cp.requests.find((r) => r.path === '/api/v1/agents/results');
    expect(request).toMatchObject({ authorization: 'Bearer test-token-123', body: { name: 'agent-a', zone: 'z2' } });
    expect(cp.results('service/api/a')[0]).toMatchObject({ ok: true, target: 'service/api/a' });
  });

  it('reconciles: adds new assignments, removes gone ones, replaces changed ones, keeps the rest', async () => {
    const cp = await controlPlane();
    const [t1, t2, t3] = [await target(), await target(), await target()];
    cp.assignments = [http('keep', t1.port), http('gone', t2.port), http('change', t1.port, 50, { method: 'GET' })];
    const captured = logs();
    const agent = startAgent(cp, captured);
    await expect.poll(() => agent.assignmentIds, { timeout: 5000 }).toEqual(['change', 'gone', 'keep']);
    await expect.poll(() => cp.results('gone').length, { timeout: 5000 }).toBeGreaterThan(0);

    cp.assignments = [http('keep', t1.port), http('change', t3.port), http('new', t3.port)];
    await expect.poll(() => agent.assignmentIds, { timeout: 5000 }).toEqual(['change', 'keep', 'new']);
    const changes = captured.lines.filter((l) => l.msg === 'assignments changed').at(-1);
    expect(changes).toMatchObject({ added: ['new'], removed: ['gone'], replaced: ['change'], total: 3 });

    // The replaced job probes the new URL; the removed one stops.
    const hitsOnT3 = t3.hits;
    await expect.poll(() => t3.hits, { timeout: 5000 }).toBeGreaterThan(hitsOnT3 + 4);
    const goneCount = cp.results('gone').length;
    const hitsOnT2 = t2.hits;
    await expect.poll(() => cp.results('new').length, { timeout: 5000 }).toBeGreaterThan(5);
    expect(cp.results('gone').length).toBeLessThanOrEqual(goneCount + 1);
    expect(t2.hits).toBeLessThanOrEqual(hitsOnT2 + 1);

    // An unchanged heartbeat is not a change: nothing more is logged.
    const logged = captured.messages().filter((m) => m === 'assignments changed').length;
    const beats = cp.heartbeats();
    await expect.poll(() => cp.heartbeats(), { timeout: 5000 }).toBeGreaterThan(beats + 3);
    expect(captured.messages().filter((m) => m === 'assignments changed')).toHaveLength(logged);
  });

  it('changes of interval or timeout alone replace the job', async () => {
    const cp = await controlPlane();
    const t = await target();
    cp.assignments = [http('a', t.port, 1000)];
    const captured = logs();
    const agent = startAgent(cp, captured);
    await expect.poll(() => agent.assignmentIds, { timeout: 5000 }).toEqual(['a']);
    cp.assignments = [{ ...http('a', t.port, 1000), timeoutMs: 400 }];
    await expect.poll(() => captured.lines.some((l) => l.msg === 'assignments changed' && JSON.stringify(l.replaced) === '["a"]'), { timeout: 5000 }).toBe(true);
    cp.assignments = [http('a', t.port, 40)];
    await expect.poll(() => cp.results('a').length, { timeout: 5000 }).toBeGreaterThan(10);
  });

  it('parses the condition texts it is sent, regexes included', async () => {
    const cp = await controlPlane();
    const t = await target('{"state":"healthy"}');
    cp.assignments = [
      http('match', t.port, 50, { conditions: ['body.state matches "^heal"'] }),
      http('nomatch', t.port, 50, { conditions: ['body.state matches "^down"'] }),
    ];
    startAgent(cp, logs());
    await expect.poll(() => cp.results('match').length > 0 && cp.results('nomatch').length > 0, { timeout: 5000 }).toBe(true);
    expect(cp.results('match')[0]).toMatchObject({ ok: true });
    expect(cp.results('nomatch')[0]).toMatchObject({ ok: false, reason: 'condition' });
  });

  it('refuses command checks unless allowed, and says so', async () => {
    const cp = await controlPlane();
    cp.assignments = [{ id: 'cmd', check: { type: 'command', spec: { command: ['true'] } }, intervalMs: 50, timeoutMs: 500 }];
    const captured = logs();
    startAgent(cp, captured);
    await expect.poll(() => captured.lines.some((l) => l.level === 50 && String(l.msg).includes('refusing a command check')), { timeout: 5000 }).toBe(true);
    await expect.poll(() => cp.heartbeats(), { timeout: 5000 }).toBeGreaterThan(3);
    expect(cp.results('cmd')).toHaveLength(0);
  });

  it('keeps probing through an outage, warns once, retries with backoff and delivers the backlog', async () => {
    const cp = await controlPlane();
    const t = await target();
    cp.assignments = [http('a', t.port, 20)];
    const captured = logs();
    const agent = startAgent(cp, captured);
    await expect.poll(() => cp.results('a').length, { timeout: 5000 }).toBeGreaterThan(0);

    cp.status = 503;
    const before = t.hits;
    await expect.poll(() => agent.backlog.buffered, { timeout: 5000 }).toBeGreaterThan(20);
    expect(t.hits).toBeGreaterThanOrEqual(before + 15);
    const warnings = captured.lines.filter((l) => l.level === 40 && String(l.msg).startsWith('control plane unreachable'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.err).toContain('HTTP 503');

    const delivered = cp.results('a').length;
    const buffered = agent.backlog.buffered;
    cp.status = undefined;
    await expect.poll(() => captured.messages(30).some((m) => m.startsWith('control plane reachable again')), { timeout: 5000 }).toBe(true);
    expect(cp.results('a').length).toBeGreaterThanOrEqual(delivered + buffered);
    expect(captured.lines.filter((l) => l.level === 40 && String(l.msg).startsWith('control plane unreachable'))).toHaveLength(1);
  });

  it('bounds the buffer during an outage, dropping the oldest', async () => {
    const cp = await controlPlane();
    const t = await target();
    cp.assignments = [http('a', t.port, 10)];
    const captured = logs();
    const agent = startAgent(cp, captured, { maxBuffered: 5 });
    await expect.poll(() => cp.results('a').length, { timeout: 5000 }).toBeGreaterThan(0);
    cp.status = 503;
    await expect.poll(() => agent.backlog.dropped, { timeout: 5000 }).toBeGreaterThan(0);
    expect(agent.backlog.buffered).toBe(5);
    expect(captured.lines.filter((l) => String(l.msg).startsWith('result buffer full'))).toHaveLength(1);
  });

  it('stops for good when the token is refused', async () => {
    const cp = await controlPlane();
    cp.status = 401;
    const captured = logs();
    const agent = startAgent(cp, captured);
    const err = await agent.failed;
    expect(err.kind).toBe('unauthorized');
    expect(agent.state).toBe('failed');
    expect(captured.lines.find((l) => l.level === 50)?.msg).toContain('the agent token is invalid');
  });

  it('on stop, finishes and delivers what is buffered', async () => {
    const cp = await controlPlane();
    const t = await target();
    cp.assignments = [http('a', t.port, 10_000)];
    const agent = startAgent(cp, logs(), { flushMs: 60_000, heartbeatMs: 60_000 });
    await expect.poll(() => agent.backlog.buffered, { timeout: 5000 }).toBe(1);
    await agent.stop(AbortSignal.timeout(2000));
    expect(agent.state).toBe('stopped');
    expect(cp.results('a')).toHaveLength(1);
    await agent.stop(AbortSignal.timeout(2000)); // twice is fine
  });
});
