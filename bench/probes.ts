/**
 * Probe scale benchmark: N HTTP monitors at a 10 s interval against a local
 * target served by another process, with the real SQLite store.
 *
 *   node --import tsx bench/probes.ts [--monitors 1000,10000] [--seconds 60]
 *
 * Prints checks per second sustained, scheduling lag p50/p99, CPU time per
 * check, peak RSS and store growth per hour. The anchor, Uptime Kuma, cannot
 * run here (no Docker, no network); its maintainers put its practical limit
 * near 500 monitors, which is the figure we compare with.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { parseConfigText } from '../src/config/index.js';
import { silentLogger } from '../src/core/logger.js';
import { EventBus } from '../src/events/index.js';
import { ProbeEngine, type ProbeEvents } from '../src/probes/index.js';
import { openSqliteStore } from '../src/store/index.js';
import type { ProbeResultRow } from '../src/probes/history-writer.js';

const INTERVAL_MS = 10_000;
const ENDPOINTS_PER_SERVICE = 100;
const UPTIME_KUMA_PRACTICAL_LIMIT = 500;

const { values } = parseArgs({ options: { monitors: { type: 'string', default: '1000,10000' }, seconds: { type: 'string', default: '60' } } });
const sizes = values.monitors.split(',').map(Number);
const measureMs = Number(values.seconds) * 1000;

async function startTarget(): Promise<{ port: number; child: ChildProcess }> {
  const code = `
    const http = require('node:http');
    const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"pass"}'); });
    server.keepAliveTimeout = 1000;
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { port, child };
}

function configFor(monitors: number, port: number) {
  const services: string[] = [];
  for (let s = 0; s * ENDPOINTS_PER_SERVICE < monitors; s++) {
    const count = Math.min(ENDPOINTS_PER_SERVICE, monitors - s * ENDPOINTS_PER_SERVICE);
    const endpoints = Array.from({ length: count }, (_, i) => `      - { url: "http://127.0.0.1:${port}", name: m${s}-${i} }`).join('\n');
    services.push(`  svc${s}:\n    endpoints:\n${endpoints}\n    health_check: { path: /health, interval: 10s, timeout: 5s, conditions: ["status == 200", "body.status == \\"pass\\""] }`);
  }
  const yaml = `probes: { max_concurrent: 4096 }\nservices:\n${services.join('\n')}\n`;
  const loaded = parseConfigText(yaml, 'bench.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings.slice(0, 3)));
  return loaded.config;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function dbBytes(dir: string): number {
  return ['bulwark.db', 'bulwark.db-wal'].map((f) => join(dir, f)).filter(existsSync).reduce((sum, f) => sum + statSync(f).size, 0);
}

async function run(monitors: number, port: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-probes-'));
  const store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
  await store.migrate();
  let checks = 0;
  let failed = 0;
  const sink = {
    recordProbeResults: async (rows: ProbeResultRow[]) => {
      checks += rows.length;
      failed += rows.filter((r) => !r.ok).length;
      await store.recordProbeResults(rows);
    },
    recordStateChange: (change: Parameters<typeof store.recordStateChange>[0]) => store.recordStateChange(change),
  };
  const lags: number[] = [];
  let measuring = false;
  const engine = new ProbeEngine({
    config: configFor(monitors, port), log: silentLogger(), bus: new EventBus<ProbeEvents>(), history: sink, registry: new Registry(),
    onScheduleLag: (lag) => { if (measuring) lags.push(lag); },
  });
  await engine.start();
  // The first interval spreads first runs (jitter); measure the steady state after it.
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS + 2000));
  await engine.flushHistory();
  const startChecks = checks;
  const startFailed = failed;
  const startBytes = dbBytes(dir);
  const startCpu = process.cpuUsage();
  const started = performance.now();
  let peakRss = 0;
  measuring = true;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 500);
  await new Promise((resolve) => setTimeout(resolve, measureMs));
  measuring = false;
  clearInterval(sampler);
  await engine.flushHistory();
  const elapsedS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(startCpu);
  const done = checks - startChecks;
  const growth = dbBytes(dir) - startBytes;
  await engine.stop(AbortSignal.timeout(5000));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  lags.sort((a, b) => a - b);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    monitors,
    checksPerSecond: done / elapsedS,
    expectedPerSecond: monitors / (INTERVAL_MS / 1000),
    failed: failed - startFailed,
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
    cpuPerCheckUs: (cpuMs * 1000) / Math.max(1, done),
    cpuUtilisation: cpuMs / (elapsedS * 1000),
    peakRssMiB: peakRss / 1024 / 1024,
    storeGrowthMiBPerHour: (growth / elapsedS) * 3600 / 1024 / 1024,
  };
}

async function main() {
  const target = await startTarget();
  const rows = [];
  try {
    for (const monitors of sizes) {
      process.stderr.write(`running ${monitors} monitors for ${measureMs / 1000}s after a ${INTERVAL_MS / 1000}s warm-up...\n`);
      rows.push(await run(monitors, target.port));
    }
  } finally {
    target.child.kill('SIGKILL');
  }
  const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
  console.log('\nBulwark probes: HTTP monitors at a 10 s interval, one Node process, SQLite store');
  console.log('monitors  checks/s (expected)  failed  lag p50  lag p99   CPU/check  CPU use  peak RSS  store growth/h  vs Uptime Kuma limit');
  for (const r of rows) {
    console.log(
      `${String(r.monitors).padEnd(9)} ${`${fmt(r.checksPerSecond)} (${fmt(r.expectedPerSecond, 0)})`.padEnd(20)} ${String(r.failed).padEnd(7)} ` +
      `${`${fmt(r.lagP50Ms)}ms`.padEnd(8)} ${`${fmt(r.lagP99Ms)}ms`.padEnd(9)} ${`${fmt(r.cpuPerCheckUs, 0)}µs`.padEnd(10)} ` +
      `${`${fmt(r.cpuUtilisation * 100, 0)}%`.padEnd(8)} ${`${fmt(r.peakRssMiB, 0)}MiB`.padEnd(9)} ${`${fmt(r.storeGrowthMiBPerHour)}MiB`.padEnd(15)} ` +
      `${fmt(r.monitors / UPTIME_KUMA_PRACTICAL_LIMIT, 0)}×`,
    );
  }
  console.log(JSON.stringify(rows));
}

await main();
