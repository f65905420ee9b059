import { afterEach, describe, expect, it } from 'vitest';
import { createToken, freePort, getMetrics, Harness, logLines, startDaemon, waitFor } from '../daemon/helpers.js';
import { load, poolStatus, Upstreams } from './chaos-helpers.js';

const h = new Harness();
const upstreams = new Upstreams();

afterEach(async () => {
  upstreams.killAll();
  await h.cleanup();
});

function config(listen: number, ports: number[], budget: string): string {
  const endpoints = ports.map((p, i) => `      - { url: "http://127.0.0.1:${p}", name: e${i}, zone: z1 }`).join('\n');
  return `name: gateway-chaos-ejection
zones:
  z1: { region: r1 }
services:
  api:
    listen: 127.0.0.1:${listen}
    endpoints:
${endpoints}
    health_check: { path: /health, interval: 200ms, timeout: 150ms, fall: 2, rise: 2 }
    outlier_detection: { consecutive_errors: 3, base_ejection_time: 5s, max_ejection_percent: 25% }
    retries: { attempts: 2, retry_on: [gateway-error]${budget} }
    timeout: 5s
`;
}

function ejectionsTotal(metrics: string): number {
  return metrics.split('\n')
    .filter((line) => line.startsWith('bulwark_gateway_ejections_total{'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('gateway outlier ejection under load (real processes)', () => {
  it('two of four upstreams answer 503: at most one ejected at a time (25 %), one gets ejected, clients see no failures', async () => {
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    await upstreams.start(ports[0] as number, 'e0');
    await upstreams.start(ports[1] as number, 'e1', 'fail-503');
    await upstreams.start(ports[2] as number, 'e2');
    await upstreams.start(ports[3] as number, 'e3', 'fail-503');
    const listen = await freePort();
    // Half the pool answers 503 and only one of them may be ejected, so about a third of
    // first tries still land on a 503 endpoint: more than the default retry budget (20 %)
    // allows. The budget is raised so that retries, not the budget, are under test (the
    // brief requires zero client failures); the README documents the default.
    const daemon = await startDaemon(h, { yaml: config(listen, ports, ', budget: 100%') });
    const token = await createToken(h, daemon.dataDir, 'chaos');
    await waitFor(async () => ((await poolStatus(daemon.base, token)).every((e) => e.health === 'up') ? true : undefined), 'all endpoints up');

    const traffic = load(`http://127.0.0.1:${listen}/`, 6);
    let polls = 0;
    let maxEjected = 0;
    let sawEjected = false;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const endpoints = await poolStatus(daemon.base, token);
        const ejected = endpoints.filter((e) => e.ejected);
        polls++;
        maxEjected = Math.max(maxEjected, ejected.length);
        if (ejected.length > 0) sawEjected = true;
        // Health checks answer 200 everywhere: nothing may be marked down here.
        expect(endpoints.map((e) => e.health)).toEqual(['up', 'up', 'up', 'up']);
        for (const e of ejected) expect(['e1', 'e3']).toContain(e.id);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    // Long enough for the first ejection (5 s) to end and the second 503 endpoint to be ejected.
    await waitFor(() => (traffic.ok > 500 ? true : undefined), 'steady traffic', 30_000);
    await waitFor(() => (logLines(daemon.proc.stderr()).filter((l) => l.msg === 'endpoint ejected').length >= 2 ? true : undefined), 'two ejections', 30_000, 100);
    await traffic.stop();
    polling = false;
    await poller;

    const ejections = logLines(daemon.proc.stderr()).filter((l) => l.msg === 'endpoint ejected');
    const metric = ejectionsTotal(await getMetrics(daemon.base));
    console.log(`ejection: ${traffic.ok} ok, ${traffic.failed.length} failed, ${polls} status polls, max ejected ${maxEjected}, ejections ${ejections.map((l) => String(l.endpoint)).join(',')}, metric ${metric}, by upstream ${JSON.stringify([...traffic.byUpstream])}`);
    expect(traffic.failed).toEqual([]);
    expect(polls).toBeGreaterThan(50);
    expect(sawEjected).toBe(true);
    expect(maxEjected).toBe(1);
    expect(ejections.length).toBeGreaterThanOrEqual(1);
    for (const l of ejections) expect(['e1', 'e3']).toContain(l.endpoint);
    expect(metric).toBeGreaterThanOrEqual(ejections.length);
    expect([...traffic.byUpstream.keys()].sort()).toEqual(['e0', 'e2']);
  });
});
