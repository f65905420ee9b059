import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken, freePort, Harness, startDaemon, waitFor } from '../daemon/helpers.js';

const h = new Harness();
const upstreams = new Set<ChildProcess>();

afterEach(async () => {
  for (const child of upstreams) child.kill('SIGKILL');
  upstreams.clear();
  await h.cleanup();
});

/** An upstream in its own process, so the test can SIGKILL it like a crashed server. */
async function upstream(port: number, id: string): Promise<ChildProcess> {
  const code = `require('node:http').createServer((q, s) => { s.writeHead(200, {'content-type': 'text/plain'}); s.end('${id}'); })
    .listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  upstreams.add(child);
  child.once('exit', () => upstreams.delete(child));
  await new Promise((resolve) => child.stdout?.once('data', resolve));
  return child;
}

interface Load { ok: number; failed: string[]; byUpstream: Map<string, number>; stop(): Promise<void> }

/** Idempotent GETs from `concurrency` loops until stopped; every non-200 or error is a failure. */
function load(url: string, concurrency: number): Load {
  const state: Load = { ok: 0, failed: [], byUpstream: new Map(), stop: async () => undefined };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        const body = await res.text();
        if (res.status === 200) {
          state.ok++;
          state.byUpstream.set(body, (state.byUpstream.get(body) ?? 0) + 1);
        } else state.failed.push(`${res.status} ${body.slice(0, 120)}`);
      } catch (err) {
        state.failed.push(String((err as Error).cause ?? err));
      }
    }
  });
  state.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return state;
}

function config(listen: number, ports: number[], extra = ''): string {
  const endpoints = ports.map((p, i) => `      - { url: "http://127.0.0.1:${p}", name: e${i}, zone: z${i} }`).join('\n');
  return `name: gateway-chaos
zones:
  z0: { region: r1 }
  z1: { region: r1 }
  z2: { region: r2 }
services:
  api:
    listen: 127.0.0.1:${listen}
    endpoints:
${endpoints}
    health_check: { path: /health, interval: 200ms, timeout: 150ms, fall: 2, rise: 2 }
    retries: { attempts: 2, retry_on: [connect-failure, reset, gateway-error] }
    outlier_detection: { consecutive_errors: 3, base_ejection_time: 2s, max_ejection_percent: 50% }
    timeout: 5s
${extra}`;
}

type PoolEndpoint = { id: string; health: string; serving: boolean };
async function pool(base: string, token: string): Promise<PoolEndpoint[]> {
  const res = await fetch(`${base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json() as { gateway: { api: { endpoints: PoolEndpoint[] } } };
  return body.gateway.api.endpoints;
}

describe('gateway failover under load (real processes)', () => {
  it.each([
    ['in the daemon', ''],
    ['in two worker processes', 'gateway: { workers: 2 }\n'],
    ['in two worker processes accepting on the shared socket', 'gateway: { workers: 2, accept: kernel }\n'],
  ])('SIGKILL one of three upstreams (%s): zero failed requests, out of rotation within the detection bound, back after restart', async (_mode, topLevel) => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const children = await Promise.all(ports.map((p, i) => upstream(p, `e${i}`)));
    const listen = await freePort();
    const daemon = await startDaemon(h, { yaml: config(listen, ports) + topLevel });
    const token = await createToken(h, daemon.dataDir, 'chaos');
    await waitFor(async () => ((await pool(daemon.base, token)).every((e) => e.health === 'up') ? true : undefined), 'all endpoints up');

    const traffic = load(`http://127.0.0.1:${listen}/`, 8);
    await waitFor(() => (traffic.ok > 200 ? true : undefined), 'steady traffic');
    const killedAt = Date.now();
    children[0]?.kill('SIGKILL');
    await waitFor(async () => ((await pool(daemon.base, token)).find((e) => e.id === 'e0')?.health === 'down' ? true : undefined), 'e0 marked down', 5_000, 20);
    const detectedMs = Date.now() - killedAt;
    const afterDetection = traffic.ok;
    await waitFor(() => (traffic.ok > afterDetection + 300 ? true : undefined), 'traffic after the kill');

    await upstream(ports[0] as number, 'e0');
    await waitFor(async () => ((await pool(daemon.base, token)).find((e) => e.id === 'e0')?.serving ? true : undefined), 'e0 back in rotation');
    const served = traffic.byUpstream.get('e0') ?? 0;
    await waitFor(() => ((traffic.byUpstream.get('e0') ?? 0) > served + 20 ? true : undefined), 'e0 taking traffic again');
    await traffic.stop();

    expect(traffic.failed).toEqual([]);
    const metrics = await (await fetch(`${daemon.base}/metrics`)).text();
    expect(metrics).toMatch(/bulwark_gateway_upstream_attempts_total\{service="api",endpoint="e1",result="2xx"\} [1-9]/);
    // Detection bound: interval × fall + timeout = 550 ms, plus the poll and scheduling slack of a loaded 2-core machine.
    expect(detectedMs).toBeLessThan(3_000);
    expect(traffic.ok).toBeGreaterThan(600);
  });

  it('kill every primary-zone endpoint: the secondary zone, then the backup, serve without failures; failback after recovery', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const children = await Promise.all(ports.map((p, i) => upstream(p, `e${i}`)));
    const listen = await freePort();
    const yaml = config(listen, ports, '    failover: { primary_zones: [z0], failback: true }\n').replace('name: e2, zone: z2 }', 'name: e2, zone: z2, backup: true }');
    const daemon = await startDaemon(h, { yaml });
    const token = await createToken(h, daemon.dataDir, 'chaos');
    await waitFor(async () => ((await pool(daemon.base, token)).every((e) => e.health === 'up') ? true : undefined), 'all endpoints up');

    const traffic = load(`http://127.0.0.1:${listen}/`, 6);
    await waitFor(() => (traffic.ok > 200 ? true : undefined), 'steady traffic');
    expect([...traffic.byUpstream.keys()]).toEqual(['e0']);

    children[0]?.kill('SIGKILL');
    await waitFor(() => ((traffic.byUpstream.get('e1') ?? 0) > 100 ? true : undefined), 'secondary zone serving');
    children[1]?.kill('SIGKILL');
    await waitFor(() => ((traffic.byUpstream.get('e2') ?? 0) > 100 ? true : undefined), 'backup serving');

    await upstream(ports[0] as number, 'e0');
    const before = traffic.byUpstream.get('e0') ?? 0;
    await waitFor(() => ((traffic.byUpstream.get('e0') ?? 0) > before + 100 ? true : undefined), 'failback to the primary zone');
    const backupBefore = traffic.byUpstream.get('e2') ?? 0;
    await waitFor(() => ((traffic.byUpstream.get('e0') ?? 0) > before + 400 ? true : undefined), 'primary steady');
    await traffic.stop();

    expect(traffic.failed).toEqual([]);
    expect((traffic.byUpstream.get('e2') ?? 0) - backupBefore).toBeLessThan(20);
  });
});
