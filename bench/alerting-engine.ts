/**
 * The alert engine alone, in-process: N endpoint_down signals fed one by one (as the probe source
 * emits them) into AlertEngine over a SQLite store, none of the services down yet: the first
 * half of bench/alerting.ts's storm, without probes or HTTP; then N/4 service_down signals, the
 * second half (each inhibits its endpoints' alerts and opens an incident that renders a page).
 * The context's after-change hook is the service's (open-incident gauges and timer). Prints CPU
 * per signal, and the gaps between runs of a 10 ms interval timer while the signals were handled
 * (p99, max): how long a probe timer would have waited.
 *
 *   node --import tsx bench/alerting-engine.ts [N]   (N a multiple of 4; 1000 by default)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseConfigText } from '../src/config/index.js';
import { silentLogger } from '../src/core/logger.js';
import { openSqliteStore } from '../src/store/index.js';
import { AlertContext } from '../src/alerting/context.js';
import { AlertEngine } from '../src/alerting/engine.js';
import { OpenIncidentWatch } from '../src/alerting/open-watch.js';
import type { Signal } from '../src/alerting/types.js';
import { effectiveRules } from '../src/alerting/default-rules.js';
import { registerAlertingMetrics } from '../src/alerting/metrics.js';

const n = Number(process.argv[2] ?? 1000);
const services = n / 4;
const svc: string[] = [];
for (let s = 0; s < services; s++) svc.push(`  s${s}:\n    endpoints:\n${[0,1,2,3].map((e) => `      - { url: "http://127.0.0.${e + 1}:1", name: e${e}, zone: z${(s * 4 + e) % 8} }`).join('\n')}`);
const yaml = `regions: { r0: {}, r1: {} }\nzones:\n${Array.from({ length: 8 }, (_, z) => `  z${z}: { region: r${Math.floor(z / 4)} }`).join('\n')}\nservices:\n${svc.join('\n')}
alerting:
  channels: { pager: { webhook: { url: "http://127.0.0.1:1/hook" } } }
  escalation_policies: { page: [ { notify: pager, after: 0s } ] }
  rules:
    service_down: { when: service_down, severity: critical, escalation: page }
    endpoint_down: { when: endpoint_down, severity: warning, escalation: page }
    zone_down: { when: zone_down, severity: critical, escalation: page }
    region_down: { when: region_down, severity: critical, escalation: page }
`;
const loaded = parseConfigText(yaml, 'bench.yaml', { lint: false });
if (!loaded.config) throw new Error(JSON.stringify(loaded.findings.slice(0, 3)));
const config = loaded.config;
const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-alerting-engine-'));
const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
await store.migrate();
const hooks: { watch?: OpenIncidentWatch } = {};
const ctx = new AlertContext(store.alerting, store, silentLogger(), registerAlertingMetrics(new Registry()), Date.now, () => 'http://127.0.0.1:1', 'k'.repeat(64), (incident) => hooks.watch?.changed(incident));
const watch = new OpenIncidentWatch(ctx, () => undefined);
hooks.watch = watch;
ctx.configure(config, effectiveRules(config));
await ctx.load();
const engine = new AlertEngine(ctx);
// Endpoints fail in the bench's order (rank permutation); none of the services is down yet: the first half of a storm.
const order = Array.from({ length: n }, (_, g) => g).sort((a, b) => ((a * 7919 + 13) % n) - ((b * 7919 + 13) % n));

async function phase(name: string, signals: Signal[]): Promise<void> {
  // A 10 ms interval timer stands for a probe's: the gaps between its runs are how late it ran.
  const gaps: number[] = [];
  let tickAt = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    gaps.push(now - tickAt);
    tickAt = now;
  }, 10);
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let last = started;
  const quarter = Math.max(1, Math.floor(signals.length / 4));
  for (const [i, signal] of signals.entries()) {
    await engine.handle([signal]);
    if ((i + 1) % quarter === 0) {
      const now = performance.now();
      console.log(`  ${name} ${i + 2 - quarter}-${i + 1}: ${((now - last) / quarter).toFixed(2)} ms per signal`);
      last = now;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(probe);
  gaps.sort((a, b) => a - b);
  const gapP99 = gaps[Math.floor(gaps.length * 0.99)] ?? 0;
  const gapMax = gaps.at(-1) ?? 0;
  console.log(`${name} x${signals.length}: ${((performance.now() - started) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU, ${((cpu.user + cpu.system) / 1e3 / signals.length).toFixed(2)} ms CPU per signal; 10 ms timer's gaps p99 ${gapP99.toFixed(0)} ms, max ${gapMax.toFixed(0)} ms (${gaps.length} runs)`);
}

const endpointSignals = order.map((g): Signal => {
  const s = Math.floor(g / 4), e = g % 4, zone = `z${g % 8}`;
  return { rule: 'endpoint_down', subject: `endpoint/service/s${s}/e${e}`, firing: true, at: Date.now(), summary: `s${s} endpoint e${e} is down`, labels: { service: `s${s}`, endpoint: `e${e}`, zone, region: `r${Math.floor((g % 8) / 4)}` } };
});
const serviceSignals = Array.from({ length: services }, (_, s): Signal => ({ rule: 'service_down', subject: `service/s${s}`, firing: true, at: Date.now(), summary: `s${s} is down`, labels: { service: `s${s}` } }));
const cpuAll = process.cpuUsage();
await phase('endpoint_down', endpointSignals);
await phase('service_down', serviceSignals);
const all = process.cpuUsage(cpuAll);
console.log(`n=${n}: ${((all.user + all.system) / 1e6).toFixed(1)} s CPU for ${n + services} signals, ${((all.user + all.system) / 1e3 / (n + services)).toFixed(2)} ms per signal; open incidents ${ctx.open.size}, outbox rows ${(await store.alerting.outboxCounts()).reduce((a, c) => a + c.count, 0)}`);
watch.stop();
engine.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });
