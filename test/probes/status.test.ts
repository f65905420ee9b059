import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createToken, freePort, getMetrics, Harness, metricValue, startDaemon, waitFor } from '../daemon/helpers.js';

const h = new Harness();
const upstreams: ChildProcess[] = [];

afterEach(async () => {
  for (const child of upstreams.splice(0)) child.kill('SIGKILL');
  await h.cleanup();
});

/** A health endpoint in its own process, so the test can SIGKILL it like a crashed server. */
async function upstream(port: number): Promise<ChildProcess> {
  const code = `require('node:http').createServer((q, s) => { s.writeHead(200, {'content-type': 'application/json'}); s.end('{"status":"pass"}'); })
    .listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  upstreams.push(child);
  await new Promise((resolve) => child.stdout?.once('data', resolve));
  return child;
}

function yaml(ports: number[]): string {
  const endpoints = ports.map((p, i) => `      - { url: "http://127.0.0.1:${p}", zone: z${i % 2}, name: e${i} }`).join('\n');
  return `name: status-test
sla_tiers:
  standard: { availability: 90%, rto: 4h, rpo: 24h }
zones:
  z0: { region: r1 }
  z1: { region: r1 }
services:
  api:
    tier: standard
    endpoints:
${endpoints}
    health_check: { interval: 200ms, timeout: 150ms, fall: 2, rise: 1, conditions: ['body.status == "pass"'] }
`;
}

describe('bulwark status against a running daemon', () => {
  it('shows a SIGKILLed endpoint down with its reason, the service up, and exits 1 only when the service is down', async () => {
    const ports = [await freePort(), await freePort()];
    const [first, second] = [await upstream(ports[0] as number), await upstream(ports[1] as number)];
    const daemon = await startDaemon(h, { yaml: yaml(ports) });
    const token = await createToken(h, daemon.dataDir, 'status');
    const status = (json = false) => h.run(['status', '--url', daemon.base, ...(json ? ['--json'] : [])], { BULWARK_TOKEN: token });

    await waitFor(async () => ((await status()).stdout.includes('2/2') ? true : undefined), 'both endpoints up');
    first?.kill('SIGKILL');
    const degraded = await waitFor(async () => {
      const r = await status();
      return r.stdout.includes('1/2') ? r : undefined;
    }, 'one endpoint down');
    expect(degraded.code).toBe(0);
    expect(degraded.stdout).toMatch(/api\s+UP/);
    expect(degraded.stdout).toMatch(/api\/e0 \[z0\]: down; local=down \(refused/);

    const metrics = await getMetrics(daemon.base);
    expect(metricValue(metrics, 'bulwark_probe_up{target="service/api/e0",owner="api",member="e0"}')).toBe(0);
    expect(metricValue(metrics, 'bulwark_service_up{kind="service",name="api"}')).toBe(1);

    second?.kill('SIGKILL');
    const down = await waitFor(async () => {
      const r = await status();
      return r.code === 1 ? r : undefined;
    }, 'service down');
    expect(down.stdout).toMatch(/api\s+DOWN/);

    const json = JSON.parse((await status(true)).stdout) as { services: Array<{ name: string; status: string; windows: Record<string, { availability: number | null; downtimePeriods: unknown[] }> }> };
    const api = json.services.find((s) => s.name === 'api');
    expect(api?.status).toBe('down');
    expect(api?.windows['1h']?.availability).toBeLessThan(1);
    expect(api?.windows['1h']?.downtimePeriods).toHaveLength(1);
  });

  it('exits 2 with a hint when the daemon cannot be reached or the token is missing', async () => {
    const port = await freePort();
    const unreachable = await h.run(['status', '--url', `http://127.0.0.1:${port}`], { BULWARK_TOKEN: 'bwk_x' });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('is `bulwark up` running?');
    const noToken = await h.run(['status', '--url', `http://127.0.0.1:${port}`], { BULWARK_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('BULWARK_TOKEN');
  });
});
