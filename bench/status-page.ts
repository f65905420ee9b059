/**
 * Status page benchmark: the real daemon (`bulwark up` through tsx) with a
 * status page of 50 components and 90 days of synthetic history written into
 * its SQLite store before it starts, under wrk at 1,000 connections, while its
 * probes (50 services × 2 endpoints, every 1 s) keep running in the same
 * process. Anchor: nginx serving the same page (the same gzipped bytes) under
 * the same load.
 *
 *   node --import tsx bench/status-page.ts [--seconds 30] [--connections 1000] [--threads 2] [--no-anchor]
 *
 * Prints rps and p50/p99 for `/` and `/api/v2/summary.json`, the probes'
 * scheduling lag p99 during each run (from the daemon's own
 * `bulwark_probe_schedule_lag_seconds` histogram, before and after), the page
 * weight, and render times: uncached (a fresh snapshot from the store, then the
 * HTML; median of 20) and cached (200 from the rendered cache, and 304).
 * Needs wrk and nginx (Debian packages; installed when missing and root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, request, type Server, Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfigText } from '../src/config/index.js';
import { silentLogger } from '../src/core/logger.js';
import { StatusPageServer } from '../src/status/server.js';
import { FakeProbes } from '../src/status/testing/fixtures.js';
import { openSqliteStore, type Store } from '../src/store/index.js';
import { freePort } from '../src/testing/net.js';
import { prng } from '../src/testing/prng.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, connections: { type: 'string', default: '1000' }, threads: { type: 'string', default: '2' }, 'no-anchor': { type: 'boolean', default: false } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const THREADS = Number(values.threads);
const COMPONENTS = 50;
const DAY = 86_400_000;
const RENDERS = 20;
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-status-'));
const children = new Set<ChildProcess>();
const servers: Server[] = [];

function ensureTools(): void {
  const missing = ['wrk', 'nginx'].filter((t) => { try { execFileSync('sh', ['-c', `command -v ${t}`]); return false; } catch { return true; } });
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing: ${missing.join(', ')}; install them (apt-get install wrk nginx-light)`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((m) => (m === 'nginx' ? 'nginx-light' : m))], { stdio: 'inherit' });
}

function start(cmd: string, args: string[], name: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT, env: { ...process.env, ...env } });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  child.once('exit', (code, signal) => { children.delete(child); if (code && code !== 0 && signal !== 'SIGKILL') process.stderr.write(`${name} exited ${code}: ${err.slice(-1000)}\n`); });
  children.add(child);
  return child;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Three tiny upstreams the probes check (in this process: 100 checks a second cost it little). */
async function upstreams(): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < 3; i++) {
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"pass"}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return ports;
}

const serviceName = (i: number) => `service-${String(i).padStart(2, '0')}`;

function configYaml(ports: number[], statusPort: number, apiPort: number): string {
  const services = Array.from({ length: COMPONENTS }, (_, i) => `  ${serviceName(i)}:
    endpoints:
      - { url: "http://127.0.0.1:${ports[i % 3]}", name: a, zone: ${i % 2 ? 'eu-1' : 'us-1'} }
      - { url: "http://127.0.0.1:${ports[(i + 1) % 3]}", name: b, zone: ${i % 2 ? 'eu-2' : 'us-1'} }
    health_check: { path: /health, interval: 1s, timeout: 500ms, fall: 2, rise: 1 }`);
  return `name: status-bench
api: { listen: 127.0.0.1:${apiPort} }
regions: { eu-west: {}, us-east: {} }
zones:
  eu-1: { region: eu-west }
  eu-2: { region: eu-west }
  us-1: { region: us-east }
services:
${services.join('\n')}
status_page:
  title: Acme Cloud
  listen: 127.0.0.1:${statusPort}
  # wrk comes from one address: high enough never to throttle it.
  rate_limit: 1000000
`;
}

/**
 * 90 days per component, as in src/status/weight.test.ts: up from the start,
 * then an outage of 1 to 60 minutes every 2 to 8 days (about 18 bad days each).
 */
async function seed(store: Store, now: number): Promise<number> {
  const random = prng(1);
  let count = 0;
  for (let i = 0; i < COMPONENTS; i++) {
    const subject = serviceName(i);
    await store.recordStateChange({ subjectKind: 'service', subject, from: 'unknown', to: 'up', at: now - 91 * DAY });
    for (let at = now - 90 * DAY + random() * DAY; at < now - DAY; at += (2 + random() * 6) * DAY) {
      const down = 60_000 + random() * 59 * 60_000;
      await store.recordStateChange({ subjectKind: 'service', subject, from: 'up', to: 'down', at });
      await store.recordStateChange({ subjectKind: 'service', subject, from: 'down', to: 'up', at: at + down });
      count += 2;
    }
  }
  return count;
}

/** A GET with raw bytes (no decompression), timed. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, string | string[] | undefined>; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers, ms: performance.now() - started }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

interface Histogram { buckets: Array<{ le: number; count: number }>; count: number }

async function lagHistogram(api: string): Promise<Histogram> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const buckets: Histogram['buckets'] = [];
  let count = 0;
  for (const line of text.split('\n')) {
    const b = /^bulwark_probe_schedule_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/.exec(line);
    if (b) buckets.push({ le: b[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(b[1]), count: Number(b[2]) });
    const c = /^bulwark_probe_schedule_lag_seconds_count (\d+)/.exec(line);
    if (c) count = Number(c[1]);
  }
  return { buckets, count };
}

/** The p99 of what the histogram saw between two samples, as Prometheus' histogram_quantile interpolates it, and the bucket bound. */
function lagP99(before: Histogram, after: Histogram): { samples: number; p99S: number; boundS: number } {
  const samples = after.count - before.count;
  const rank = 0.99 * samples;
  let lower = 0;
  let below = 0;
  for (const [i, b] of after.buckets.entries()) {
    const cum = b.count - (before.buckets[i]?.count ?? 0);
    if (cum >= rank) {
      if (!Number.isFinite(b.le)) return { samples, p99S: lower, boundS: b.le };
      const inBucket = cum - below;
      return { samples, p99S: inBucket > 0 ? lower + ((b.le - lower) * (rank - below)) / inBucket : b.le, boundS: b.le };
    }
    lower = b.le;
    below = cum;
  }
  return { samples, p99S: Number.NaN, boundS: Number.NaN };
}

interface WrkResult { rps: number; p50Ms: number; p99Ms: number; errors: number; socketErrors: string; non2xx: number; requests: number; transferPerSec: string }

function parseLatency(text: string, pct: string): number {
  const m = new RegExp(`\\s${pct}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

/** wrk with the header browsers send: the page goes out gzipped, as it does to them. */
async function wrk(url: string): Promise<WrkResult> {
  const child = spawn('wrk', [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--timeout', '10s', '--latency', '-H', 'Accept-Encoding: gzip', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((resolve) => child.once('exit', resolve));
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: parseLatency(out, '50'),
    p99Ms: parseLatency(out, '99'),
    errors: socket ? socket.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    socketErrors: socket ? `connect ${socket[1]}, read ${socket[2]}, write ${socket[3]}, timeout ${socket[4]}` : 'none',
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    transferPerSec: /Transfer\/sec:\s+(\S+)/.exec(out)?.[1] ?? '?',
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** nginx, one worker (the page is served by one Node event loop), serving the daemon's gzipped page as a static file. */
async function nginxServing(gz: Buffer): Promise<{ port: number; child: ChildProcess }> {
  const root = join(dir, 'www');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'index.html'), gz);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log stderr error; worker_rlimit_nofile 8192;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; root ${root};
    location = / { default_type "text/html; charset=utf-8"; add_header Content-Encoding gzip; add_header Cache-Control "public, max-age=30"; try_files /index.html =404; } } }
`);
  const child = start('nginx', ['-c', conf, '-p', dir], 'nginx');
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 'nginx');
  return { port, child };
}

/** Uncached: a fresh StatusPageServer over the same store each time, so each request builds its snapshot from the store and renders it. */
async function uncachedRenders(storePath: string, configText: string): Promise<number[]> {
  const loaded = parseConfigText(configText, 'bench.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings.slice(0, 3)));
  const probes = new FakeProbes();
  for (let i = 0; i < COMPONENTS; i++) probes.owner('service', serviceName(i), 'up');
  const store = await openSqliteStore({ path: storePath });
  const times: number[] = [];
  try {
    for (let i = 0; i < RENDERS + 1; i++) {
      const server = new StatusPageServer({ config: loaded.config, probes, store, log: silentLogger() });
      const started = performance.now();
      const res = await server.app().request('/', { headers: { 'accept-encoding': 'gzip' } }, { incoming: { socket: { remoteAddress: '192.0.2.1' } } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`uncached render answered ${res.status}`);
      if (i > 0) times.push(performance.now() - started); // the first warms the JIT
    }
  } finally {
    await store.close();
  }
  return times;
}

async function main() {
  ensureTools();
  const benchStarted = Date.now();
  const ports = await upstreams();
  const [statusPort, apiPort] = [await freePort(), await freePort()];
  const configText = configYaml(ports, statusPort, apiPort);
  const configFile = join(dir, 'bulwark.yaml');
  const dataDir = join(dir, 'data');
  writeFileSync(configFile, configText);
  mkdirSync(dataDir, { recursive: true });
  const storePath = join(dataDir, 'bulwark.db');
  const store = await openSqliteStore({ path: storePath });
  await store.migrate();
  const changes = await seed(store, Date.now());
  await store.close();

  const daemon = start(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'up', '-c', configFile, '--data-dir', dataDir, '--listen', `127.0.0.1:${apiPort}`, '--log-level', 'warn', '--log-format', 'json'], 'bulwark', { NO_COLOR: '1' });
  const api = `http://127.0.0.1:${apiPort}`;
  const page = `http://127.0.0.1:${statusPort}`;
  await waitFor(async () => (await fetch(`${api}/readyz`)).status === 200, 'daemon /readyz', 60_000);
  await waitFor(async () => (await (await fetch(`${page}/`)).text()).includes('All systems operational'), 'every component operational', 30_000);
  await new Promise((r) => setTimeout(r, 6_000)); // a fresh snapshot, with every probe's first result in

  // Weight: the page as sent, plain and gzipped (raw bytes off the wire).
  const plain = await get(`${page}/`);
  const gz = await get(`${page}/`, { 'accept-encoding': 'gzip' });
  if (gz.headers['content-encoding'] !== 'gzip') throw new Error('the page was not sent gzipped');
  const html = plain.body.toString('utf8');
  const components = (html.match(/class="comp"/g) ?? []).length;
  const summary = await get(`${page}/api/v2/summary.json`, { 'accept-encoding': 'gzip' });

  // Cached: 200 from the rendered cache (same snapshot), and 304 on a matching If-None-Match.
  const etag = String(gz.headers.etag);
  const cached200: number[] = [];
  const cached304: number[] = [];
  for (let i = 0; i < RENDERS; i++) {
    const r = await get(`${page}/`, { 'accept-encoding': 'gzip' });
    if (r.status === 200) cached200.push(r.ms);
    const n = await get(`${page}/`, { 'accept-encoding': 'gzip', 'if-none-match': etag });
    if (n.status === 304) cached304.push(n.ms);
  }

  // Load, with the probes' scheduling lag sampled around each run.
  const runs: Array<{ name: string; result: WrkResult; lag: ReturnType<typeof lagP99> | null; checksPerS: number | null }> = [];
  for (const path of ['/', '/api/v2/summary.json']) {
    const before = await lagHistogram(api);
    const t0 = Date.now();
    const result = await wrk(`${page}${path}`);
    const after = await lagHistogram(api);
    const lag = lagP99(before, after);
    runs.push({ name: `bulwark ${path}`, result, lag, checksPerS: lag.samples / ((Date.now() - t0) / 1000) });
    await new Promise((r) => setTimeout(r, 2_000));
  }
  const idleBefore = await lagHistogram(api);
  await new Promise((r) => setTimeout(r, 5_000));
  const idleLag = lagP99(idleBefore, await lagHistogram(api));

  daemon.kill('SIGTERM');
  await new Promise((resolve) => (daemon.exitCode === null ? daemon.once('exit', resolve) : resolve(undefined)));
  const uncached = await uncachedRenders(storePath, configText);

  if (!values['no-anchor']) {
    const nginx = await nginxServing(gz.body);
    const result = await wrk(`http://127.0.0.1:${nginx.port}/`);
    runs.push({ name: 'nginx / (static, 1 worker)', result, lag: null, checksPerS: null });
    nginx.child.kill('SIGTERM');
  }

  const f = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '?');
  const nginxRps = runs.find((r) => r.name.startsWith('nginx'))?.result.rps;
  console.log(`\nStatus page: ${components} components × 90 days (${changes} seeded state changes), real daemon via tsx, probes 50 services × 2 endpoints every 1 s in the same process`);
  console.log(`wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s --latency -H 'Accept-Encoding: gzip', one run each`);
  console.log('target                         rps        p50        p99        errors  non-2xx  transfer/s  rps vs nginx  probe lag p99 (bucket)  checks/s');
  for (const r of runs) {
    const lag = r.lag ? `${f(r.lag.p99S * 1000, 1)} ms (≤ ${r.lag.boundS} s)` : '';
    console.log(`${r.name.padEnd(30)} ${f(r.result.rps).padEnd(10)} ${`${f(r.result.p50Ms, 1)} ms`.padEnd(10)} ${`${f(r.result.p99Ms, 1)} ms`.padEnd(10)} ${String(r.result.errors).padEnd(7)} ${String(r.result.non2xx).padEnd(8)} ${r.result.transferPerSec.padEnd(11)} ${(nginxRps ? `${f(r.result.rps / nginxRps, 2)}×` : '').padEnd(13)} ${lag.padEnd(23)} ${r.checksPerS === null ? '' : f(r.checksPerS, 0)}`);
  }
  for (const r of runs) if (r.result.errors > 0) console.log(`${r.name}: socket errors ${r.result.socketErrors} of ${r.result.requests} requests`);
  console.log(`probe lag p99 at idle (5 s after the runs): ${f(idleLag.p99S * 1000, 1)} ms (≤ ${idleLag.boundS} s), ${idleLag.samples} checks  (goal under load: < 1 s)`);
  console.log(`\npage weight: ${plain.body.length} bytes of HTML, ${gz.body.length} bytes gzipped as sent; summary.json ${summary.body.length} bytes gzipped`);
  console.log(`render, uncached (fresh snapshot from the SQLite store + HTML + gzip, in-process, median of ${uncached.length}): ${f(median(uncached), 1)} ms (min ${f(Math.min(...uncached), 1)}, max ${f(Math.max(...uncached), 1)})`);
  console.log(`served from the rendered cache over HTTP (keep-alive, median of ${RENDERS}): 200 ${f(median(cached200), 2)} ms, 304 ${f(median(cached304), 2)} ms`);
  console.log(`whole run: ${f((Date.now() - benchStarted) / 1000)} s`);
  console.log(JSON.stringify({ components, changes, bytes: plain.body.length, gzipBytes: gz.body.length, summaryGzipBytes: summary.body.length, uncachedMs: median(uncached), cached200Ms: median(cached200), cached304Ms: median(cached304), idleLag, runs }));
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
