import { afterEach, describe, expect, it } from 'vitest';
import { createToken, freePort, Harness, startDaemon, waitFor } from '../daemon/helpers.js';
import { load, percentile, poolStatus, Upstreams } from './chaos-helpers.js';

const h = new Harness();
const upstreams = new Upstreams();

afterEach(async () => {
  upstreams.killAll();
  await h.cleanup();
});

const PER_TRY_MS = 300;
const MARGIN_MS = 700;

function config(listen: number, ports: number[], retriesExtra = ''): string {
  const endpoints = ports.map((p, i) => `      - { url: "http://127.0.0.1:${p}", name: e${i}, zone: z1 }`).join('\n');
  return `name: gateway-chaos-hang
zones:
  z1: { region: r1 }
services:
  api:
    listen: 127.0.0.1:${listen}
    endpoints:
${endpoints}
    health_check: { path: /health, interval: 200ms, timeout: 150ms, fall: 2, rise: 2 }
    retries: { attempts: 2, per_try_timeout: ${PER_TRY_MS}ms, retry_on: [gateway-error, reset, connect-failure]${retriesExtra} }
    timeout: 5s
`;
}

describe('gateway: an upstream that accepts and never answers (real processes)', () => {
  it('health checks pass but requests hang on one of three: every request succeeds within per_try_timeout + margin', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    await upstreams.start(ports[0] as number, 'e0');
    await upstreams.start(ports[1] as number, 'e1', 'hang-requests');
    await upstreams.start(ports[2] as number, 'e2');
    const listen = await freePort();
    // One request in three meets the hanging upstream, so one in three is retried: above
    // the default retry budget (20 % of requests, floor 3/s). A third of the pool hanging
    // while its health checks pass is exactly what the budget is meant to cap, so the
    // budget is raised here to test the per-try timeout and retry path alone (see the
    // budget test below for the default).
    const daemon = await startDaemon(h, { yaml: config(listen, ports, ', budget: 100%') });
    const token = await createToken(h, daemon.dataDir, 'chaos');
    await waitFor(async () => ((await poolStatus(daemon.base, token)).every((e) => e.health === 'up') ? true : undefined), 'all endpoints up');

    const traffic = load(`http://127.0.0.1:${listen}/`, 6);
    await waitFor(() => (traffic.ok > 300 ? true : undefined), 'steady traffic', 30_000);
    await traffic.stop();

    const p100 = percentile(traffic.latenciesMs, 100);
    const p50 = percentile(traffic.latenciesMs, 50);
    console.log(`hang (health ok): ${traffic.latenciesMs.length} requests, p50 ${p50.toFixed(1)} ms, p100 ${p100.toFixed(1)} ms, by upstream ${JSON.stringify([...traffic.byUpstream])}`);
    expect(traffic.failed).toEqual([]);
    expect(traffic.byUpstream.has('e1')).toBe(false);
    // Requests did meet the hanging upstream: at least the 5 per-try timeouts in a row
    // that had passive ejection (on by default) take it out.
    expect(traffic.latenciesMs.filter((ms) => ms >= PER_TRY_MS).length).toBeGreaterThanOrEqual(5);
    expect(p100).toBeLessThan(PER_TRY_MS + MARGIN_MS);
  });

  it('a running upstream freezes (replaced by a black hole on its port): no failures, bounded latency, health then takes it out', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    await upstreams.start(ports[0] as number, 'e0');
    const frozen = await upstreams.start(ports[1] as number, 'e1');
    await upstreams.start(ports[2] as number, 'e2');
    const listen = await freePort();
    const daemon = await startDaemon(h, { yaml: config(listen, ports) });
    const token = await createToken(h, daemon.dataDir, 'chaos');
    await waitFor(async () => ((await poolStatus(daemon.base, token)).every((e) => e.health === 'up') ? true : undefined), 'all endpoints up');

    const traffic = load(`http://127.0.0.1:${listen}/`, 6);
    await waitFor(() => (traffic.ok > 200 ? true : undefined), 'steady traffic');
    frozen.kill('SIGKILL');
    await upstreams.start(ports[1] as number, 'e1', 'blackhole');
    await waitFor(async () => ((await poolStatus(daemon.base, token)).find((e) => e.id === 'e1')?.health === 'down' ? true : undefined), 'e1 marked down', 10_000, 20);
    const after = traffic.ok;
    await waitFor(() => (traffic.ok > after + 200 ? true : undefined), 'traffic after detection');
    await traffic.stop();

    const p100 = percentile(traffic.latenciesMs, 100);
    console.log(`hang (black hole): ${traffic.latenciesMs.length} requests, p100 ${p100.toFixed(1)} ms`);
    expect(traffic.failed).toEqual([]);
    expect(p100).toBeLessThan(PER_TRY_MS + MARGIN_MS);
  });

  it('with the default configuration, a third of the pool hanging behind passing health checks fails no request: passive ejection takes it out and the retry budget covers the retries before that', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    await upstreams.start(ports[0] as number, 'e0');
    await upstreams.start(ports[1] as number, 'e1', 'hang-requests');
    await upstreams.start(ports[2] as number, 'e2');
    const listen = await freePort();
    const daemon = await startDaemon(h, { yaml: config(listen, ports) });
    const token = await createToken(h, daemon.dataDir, 'chaos');
    await waitFor(async () => ((await poolStatus(daemon.base, token)).every((e) => e.health === 'up') ? true : undefined), 'all endpoints up');

    const traffic = load(`http://127.0.0.1:${listen}/`, 6);
    await waitFor(() => (traffic.ok > 300 ? true : undefined), 'steady traffic', 30_000);
    await traffic.stop();

    const p100 = percentile(traffic.latenciesMs, 100);
    const total = traffic.latenciesMs.length;
    console.log(`hang (default configuration): ${total} requests, ${traffic.failed.length} failed, p100 ${p100.toFixed(1)} ms`);
    expect(traffic.failed).toEqual([]);
    expect(p100).toBeLessThan(PER_TRY_MS + MARGIN_MS);
    const ejected = (await poolStatus(daemon.base, token)).find((e) => e.id === 'e1') as { ejected?: boolean } | undefined;
    expect(ejected?.ejected).toBe(true);
  });
});
