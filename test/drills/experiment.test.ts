import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText, type BulwarkConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { DrillRunner, reportMarkdown } from '../../src/drills/index.js';
import { pidsListeningOn } from '../../src/drills/faults/process.js';
import { configFrom } from '../../src/drills/testing/world.js';
import { ServiceGateway } from '../../src/gateway/index.js';
import { registerGatewayMetrics } from '../../src/gateway/metrics.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';
import { freePort } from '../daemon/helpers.js';
import { startEndpoint } from './endpoint-process.js';


function yaml(gw: number, metrics: number, p: Record<string, number>): string {
  return `
version: 1
sla_tiers:
  gold: { availability: 99.9%, rto: 1h, rpo: 1h }
zones:
  za: { region: r1 }
  zb: { region: r1 }
services:
  api:
    tier: gold
    listen: 127.0.0.1:${gw}
    endpoints:
      - { name: a1, url: "http://127.0.0.1:${p.a1}", zone: za }
      - { name: b1, url: "http://127.0.0.1:${p.b1}", zone: zb }
    retries: { attempts: 2, per_try_timeout: 2s, retry_on: [connect-failure, reset, gateway-error] }
dr_testing:
  a1-dies:
    type: experiment
    frequency: quarterly
    experiment:
      steady_state:
        - { probe: http, service: api, status: 200, max_latency: 10s }
        - { probe: process, port: ${p.b1} }
        - { probe: metric, url: "http://127.0.0.1:${metrics}/metrics", name: 'queue_depth{queue="mail"}', max: 10 }
      method:
        - { action: kill, port: ${p.a1} }
        - { action: pause, duration: 200ms }
        - { action: http, url: "http://127.0.0.1:${gw}/", status: 200, timeout: 10s }
  a1-hangs:
    type: experiment
    frequency: quarterly
    experiment:
      steady_state:
        - { probe: http, url: "http://127.0.0.1:${p.a1}/", max_latency: 1s }
      method:
        - { action: stop, port: ${p.a1} }
      rollbacks:
        - { action: continue, port: ${p.a1} }
`;
}

describe('experiments as code on real processes and the real gateway', () => {
  let dir: string;
  let config: BulwarkConfig;
  let store: Store;
  let runner: DrillRunner;
  let gateway: ServiceGateway;
  let metrics: Server;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-experiment-'));
    for (const name of ['a1', 'b1']) ports[name] = await freePort();
    const gw = await freePort();
    metrics = createServer((_q, s) => s.end('# TYPE queue_depth gauge\nqueue_depth{queue="mail"} 3\nqueue_depth{queue="sms"} 40\n'));
    await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
    const metricsPort = (metrics.address() as { port: number }).port;
    config = configFrom(yaml(gw, metricsPort, ports));
    for (const name of ['a1', 'b1']) await startEndpoint(ports[name]!, name);
    gateway = new ServiceGateway('api', config.services.api!, registerGatewayMetrics(new Registry()), silentLogger());
    await new Promise<void>((r) => (gateway.server as Server).listen(gw, '127.0.0.1', r));
    await mkdir(join(dir, 'data'));
    store = await openSqliteStore({ path: join(dir, 'data', 'bulwark.db') });
    await store.migrate();
    runner = new DrillRunner({ config, dataDir: join(dir, 'data'), store });
  }, 60_000);

  afterAll(async () => {
    for (const port of Object.values(ports)) for (const pid of await pidsListeningOn(port)) { process.kill(pid, 'SIGCONT'); process.kill(pid, 'SIGKILL'); }
    await new Promise((r) => (gateway?.server as Server | undefined)?.close(r) ?? r(undefined));
    await new Promise((r) => metrics?.close(r));
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the hypothesis holds before and after a kill behind the gateway: passed, the killed endpoint started again, recorded', async () => {
    const before = await pidsListeningOn(ports.a1!);
    const report = await runner.run('a1-dies');
    process.stdout.write(reportMarkdown(report));
    expect(report.outcome).toBe('passed');
    expect(report.experiment?.verdict).toBe('held');
    expect(report.experiment?.before.map((p) => p.ok)).toEqual([true, true, true]);
    expect(report.experiment?.after?.every((p) => p.ok)).toBe(true);
    expect(report.timeline.map((s) => s.step)).toEqual(['hypothesis', 'action', 'action', 'action', 'hypothesis']);
    expect(report.experiment?.reverted.join(' ')).toMatch(/started the process on port \d+ again/);
    await expect.poll(() => pidsListeningOn(ports.a1!), { timeout: 20_000 }).toHaveLength(1);
    expect(await pidsListeningOn(ports.a1!)).not.toEqual(before);
    expect(existsSync(join(dir, 'data', 'drills', 'journal.json'))).toBe(false);
    expect((await store.drillRuns.get(report.id))?.outcome).toBe('passed');
  }, 90_000);

  it('a hypothesis that deviates after the method fails the experiment; the rollback continues the process', async () => {
    const report = await runner.run('a1-hangs');
    process.stdout.write(reportMarkdown(report));
    expect(report.outcome).toBe('failed');
    expect(report.experiment?.verdict).toBe('deviated');
    expect(report.experiment?.rollbacks).toMatchObject([{ ok: true }]);
    expect(report.experiment?.rollbacks[0]!.detail).toMatch(/SIGCONT/);
    const [pid] = await pidsListeningOn(ports.a1!);
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    expect(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)).not.toBe('T');
    expect(report.issues.join(' ')).toMatch(/deviated after the method/);
    expect(existsSync(join(dir, 'data', 'drills', 'journal.json'))).toBe(false);
  }, 90_000);

  it('--dry-run names every probe and action; check names an unknown probe or action at its line and column', () => {
    const steps = runner.plan('a1-hangs');
    expect(steps.map((s) => s.step)).toEqual(['lock', 'recover', 'hypothesis (before)', 'action', 'hypothesis (after)', 'rollback', 'revert']);
    expect(steps[3]!.touches).toMatch(/SIGSTOP the process on port \d+ \(journalled first\)/);
    const bad = 'version: 1\ndr_testing:\n  e:\n    type: experiment\n    frequency: monthly\n    experiment:\n      steady_state:\n        - { probe: htp, url: "http://x/" }\n      method:\n        - { action: explode, port: 1 }\n';
    const findings = parseConfigText(bad, 'bulwark.yaml').findings.map((f) => [f.location?.line, f.location?.column, f.message]);
    expect(findings).toEqual([
      [8, 20, 'unknown probe: expected probe: one of http, sql, metric, process'],
      [10, 21, 'unknown action: expected action: one of kill, stop, continue, disable, proxy, pause, http'],
    ]);
  });
});
