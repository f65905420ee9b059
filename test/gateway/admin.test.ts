import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken, freePort, Harness, startDaemon, waitFor, withTimeout } from '../daemon/helpers.js';

const h = new Harness();
const servers = new Set<Server>();

afterEach(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  servers.clear();
  await h.cleanup();
});

interface Upstream { port: number; held: ServerResponse[]; slowSeen: Promise<void>; release(): void }

/** An upstream that answers its id; `/slow` is held until `release()`, so a request stays in flight. */
async function upstream(id: string): Promise<Upstream> {
  const held: ServerResponse[] = [];
  let seen!: () => void;
  const slowSeen = new Promise<void>((resolve) => (seen = resolve));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/slow' && id === 'e0') {
      held.push(res);
      seen();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(id);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const release = () => {
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'text/plain' }).end(`${id}-slow`);
  };
  return { port: (server.address() as AddressInfo).port, held, slowSeen, release };
}

function yaml(listen: number, e0: number, e1: number, workers = 1): string {
  return `name: gateway-admin
gateway: { workers: ${workers} }
zones:
  z0: { region: r1 }
  z1: { region: r1 }
services:
  api:
    listen: 127.0.0.1:${listen}
    endpoints:
      - { url: "http://127.0.0.1:${e0}", name: e0, zone: z0 }
      - { url: "http://127.0.0.1:${e1}", name: e1, zone: z1 }
    health_check: { path: /health, interval: 200ms, timeout: 150ms, fall: 2, rise: 1 }
    timeout: 30s
  web:
    endpoints:
      - { url: "http://127.0.0.1:${e1}", zone: z1 }
    health_check: { path: /health, interval: 1h }
`;
}

type Endpoint = { id: string; zone: string; health: string; admin: string; weight: number; active: number; serving: boolean };
type EndpointAnswer = { service: string; level: string; endpoint: Endpoint };
type ErrorAnswer = { error: { code: string; message: string; hint?: string } };

async function setup(workers = 1) {
  const [e0, e1] = [await upstream('e0'), await upstream('e1')];
  const listen = await freePort();
  const daemon = await startDaemon(h, { yaml: yaml(listen, e0.port, e1.port, workers) });
  const token = await createToken(h, daemon.dataDir, 'ops-alice');
  const api = async <T>(method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; body: T }> => {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${daemon.base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  };
  const pool = async () => (await api<{ endpoints: Endpoint[]; level: string }>('GET', '/gateway/api')).body;
  const endpoint = async (id: string) => (await pool()).endpoints.find((e) => e.id === id) as Endpoint;
  const gw = `http://127.0.0.1:${listen}`;
  const get = async (path = '/') => (await fetch(`${gw}${path}`, { signal: AbortSignal.timeout(10_000) })).text();
  const cli = (args: string[]) => h.run(['gateway', ...args, '--url', daemon.base, '--token', token]);
  await waitFor(async () => ((await pool()).endpoints.every((e) => e.health === 'up') ? true : undefined), 'both endpoints up');
  return { e0, e1, daemon, token, api, pool, endpoint, get, cli, gw };
}

describe('gateway admin API and CLI (real daemon)', () => {
  it.each([1, 2])('drain (gateway workers: %i): new requests go elsewhere, the in-flight one finishes, --wait returns at 0; disable, enable, weight, audit trail', async (workers) => {
    const { e0, api, endpoint, get, cli, daemon, token } = await setup(workers);

    // A slow request lands on e0 (round robin: at most a few tries) and stays in flight.
    const answers: Array<Promise<string>> = [];
    await waitFor(async () => {
      if (e0.held.length > 0) return true;
      answers.push(get('/slow'));
      await Promise.race([e0.slowSeen, answers.at(-1)]);
      return e0.held.length > 0 ? true : undefined;
    }, 'a slow request held on e0', 10_000, 0);
    const slow = answers.at(-1) as Promise<string>;
    // Workers report their in-flight counts to the daemon every 250 ms.
    await waitFor(async () => ((await endpoint('e0')).active === 1 ? true : undefined), 'the held request counted');

    const drained = await api<EndpointAnswer>('POST', '/gateway/api/endpoints/e0/drain');
    expect(drained.status).toBe(200);
    expect(drained.body.endpoint).toMatchObject({ id: 'e0', admin: 'draining', active: 1, serving: false });

    const after = await Promise.all(Array.from({ length: 20 }, () => get('/')));
    expect(new Set(after)).toEqual(new Set(['e1']));

    // --wait keeps polling while the request is in flight, and returns once it finished.
    const waiting = h.spawn(['gateway', 'drain', 'api', 'e0', '--wait', '--timeout', '20s', '--url', daemon.base, '--token', token]);
    await waitFor(() => (waiting.stderr().includes('waiting for 1 in-flight') ? true : undefined), 'drain --wait to start waiting');
    expect(waiting.child.exitCode).toBeNull();
    e0.release();
    expect(await slow).toBe('e0-slow');
    const { code } = await withTimeout(waiting.exited, 20_000, 'drain --wait');
    expect(code, waiting.stderr()).toBe(0);
    expect(waiting.stdout()).toContain('api/e0 drained: nothing in flight');
    expect((await endpoint('e0')).active).toBe(0);

    // A --wait that cannot finish in time exits 1 and leaves the endpoint draining.
    await api('POST', '/gateway/api/endpoints/e0/enable');
    const stuck: Array<Promise<string>> = [];
    await waitFor(() => {
      if (e0.held.length > 0) return true;
      stuck.push(get('/slow'));
      return undefined;
    }, 'another slow request on e0', 10_000, 20);
    const timedOut = await cli(['drain', 'api', 'e0', '--wait', '--timeout', '300ms']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toMatch(/still has \d+ request\(s\) in flight/);
    e0.release();
    expect(await Promise.all(stuck)).toContain('e0-slow');

    const disabled = await cli(['disable', 'api', 'e0']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toContain('api/e0: disabled');
    expect((await endpoint('e0')).admin).toBe('disabled');
    expect(new Set(await Promise.all(Array.from({ length: 10 }, () => get('/'))))).toEqual(new Set(['e1']));

    const enabled = await cli(['enable', 'api', 'e0', '--json']);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect((JSON.parse(enabled.stdout) as EndpointAnswer).endpoint).toMatchObject({ admin: 'enabled', serving: true });
    await waitFor(async () => ((await get('/')) === 'e0' ? true : undefined), 'e0 serving again');

    // weight 0: no new traffic to e1.
    const weighted = await cli(['weight', 'api', 'e1', '0']);
    expect(weighted.code, weighted.stderr).toBe(0);
    expect(weighted.stdout).toContain('weight 0');
    expect(new Set(await Promise.all(Array.from({ length: 10 }, () => get('/'))))).toEqual(new Set(['e0']));
    const restored = await api<EndpointAnswer>('PUT', '/gateway/api/endpoints/e1/weight', { weight: 100 });
    expect(restored.body.endpoint.weight).toBe(100);

    // The audit trail names the token.
    const events = await api<{ events: Array<{ subsystem: string; kind: string; subject: string; data: { by: string; from: unknown; to: unknown } }> }>('GET', '/events?limit=50');
    const gatewayEvents = events.body.events.filter((e) => e.subsystem === 'gateway');
    expect(gatewayEvents.find((e) => e.kind === 'endpoint.drain')).toMatchObject({ subject: 'api/e0', data: { by: 'ops-alice', from: 'enabled', to: 'draining' } });
    expect(gatewayEvents.map((e) => e.kind)).toEqual(expect.arrayContaining(['endpoint.disable', 'endpoint.enable', 'endpoint.weight']));
    expect(daemon.proc.stderr()).toContain('gateway endpoint changed by an operator');
  });

  it('refuses bad values, unknown names and missing tokens with the right status and exit code', async () => {
    const { api, cli, daemon } = await setup();

    for (const [body, message] of [[{ weight: 5000 }, /at most 1000/], [{ weight: 1.5 }, /whole number/], [{ weight: 'x' }, /must be a number/], ['{', /JSON body/]] as const) {
      const res = await api<ErrorAnswer>('PUT', '/gateway/api/endpoints/e1/weight', body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    const tooHeavy = await cli(['weight', 'api', 'e1', '5000']);
    expect(tooHeavy.code).toBe(1);
    expect(tooHeavy.stderr).toContain('API answered 400');
    expect((await cli(['weight', 'api', 'e1', 'heavy'])).code).toBe(2);

    const noService = await api<ErrorAnswer>('POST', '/gateway/web/endpoints/e0/drain');
    expect(noService.status).toBe(404);
    expect(noService.body.error).toMatchObject({ message: 'service "web" has no gateway', hint: 'services with a gateway: api' });
    const noEndpoint = await api<ErrorAnswer>('POST', '/gateway/api/endpoints/e9/disable');
    expect(noEndpoint.status).toBe(404);
    expect(noEndpoint.body.error.hint).toBe('known endpoints: e0, e1');
    const cliMissing = await cli(['drain', 'nope', 'e0']);
    expect(cliMissing.code).toBe(1);
    expect(cliMissing.stderr).toContain('services with a gateway: api');

    expect((await api('GET', '/gateway', undefined, false)).status).toBe(401);
    expect((await api('POST', '/gateway/api/endpoints/e0/drain', undefined, false)).status).toBe(401);
    expect((await h.run(['gateway', 'pools', '--url', daemon.base, '--token', 'bwk_wrong'])).code).toBe(2);
    expect((await h.run(['gateway', 'pools', '--url', `http://127.0.0.1:${await freePort()}`, '--token', 'x'])).code).toBe(2);

    const reset = await cli(['reset-failover', 'api']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/^api on 127\.0\.0\.1:\d+: level primary/);

    const pools = await cli(['pools']);
    expect(pools.code).toBe(0);
    expect(pools.stdout).toMatch(/ENDPOINT\s+ZONE\s+TIER\s+HEALTH\s+ADMIN\s+WEIGHT\s+ACTIVE\s+SERVING/);
    expect(pools.stdout).toMatch(/e0\s+z0\s+primary\s+up\s+enabled\s+100\s+0\s+yes/);
    const json = JSON.parse((await cli(['pools', '--json'])).stdout) as { services: Record<string, { level: string }> };
    expect(Object.keys(json.services)).toEqual(['api']);

    const help = await h.run(['gateway', 'drain', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--wait');

    const status = await h.run(['status', '--url', daemon.base, '--token', (await createTokenFor(daemon.dataDir))]);
    expect(status.stdout).toMatch(/Gateway\n {2}api on 127\.0\.0\.1:\d+: PRIMARY, serving e0, e1/);
  });
});

async function createTokenFor(dataDir: string): Promise<string> {
  return createToken(h, dataDir, 'status-reader');
}
