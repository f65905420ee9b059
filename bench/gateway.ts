/**
 * Gateway benchmark: wrk against Bulwark's gateway and HAProxy (nbthread 1)
 * in front of the same three nginx upstreams, in one run on one machine; then
 * one upstream is SIGKILLed under load and failed requests are counted for
 * HAProxy's default configuration, HAProxy tuned (redispatch, retry-on) and Bulwark.
 *
 *   node --import tsx bench/gateway.ts [--workers auto|N] [--seconds 10] [--connections 64] [--rounds 5] [--no-kill]
 *
 * Needs wrk, haproxy and nginx (Debian packages; installed when missing and root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../src/testing/net.js';

const { values } = parseArgs({ options: { workers: { type: 'string', default: 'auto' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '64' }, rounds: { type: 'string', default: '5' }, 'no-kill': { type: 'boolean', default: false } } });
const SECONDS = Number(values.seconds);
const WORKERS = values.workers === 'auto' ? 'auto' : Number(values.workers);
const CONNECTIONS = Number(values.connections);
const ROUNDS = Number(values.rounds);
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-gw-'));
const children = new Set<ChildProcess>();

function ensureTools(): void {
  const missing = ['wrk', 'haproxy', 'nginx'].filter((t) => { try { execFileSync('sh', ['-c', `command -v ${t}`]); return false; } catch { return true; } });
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing: ${missing.join(', ')}; install them (apt-get install wrk haproxy nginx-light)`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((m) => (m === 'nginx' ? 'nginx-light' : m))], { stdio: 'inherit' });
}

function start(cmd: string, args: string[], name: string): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  child.once('exit', (code) => { children.delete(child); if (code && code !== 0 && code !== 137) process.stderr.write(`${name} exited ${code}: ${err.slice(-500)}\n`); });
  children.add(child);
  return child;
}

async function waitHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

function nginx(port: number): ChildProcess {
  const conf = join(dir, `nginx-${port}.conf`);
  writeFileSync(conf, `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx-${port}.pid; error_log stderr error;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; default_type text/plain; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; location /health { return 200 '{"status":"pass"}'; } location / { return 200 'ok ${port}'; } } }
`);
  return start('nginx', ['-c', conf, '-p', dir], `nginx ${port}`);
}

function haproxyConfig(port: number, upstreams: number[], tuned: boolean): string {
  const servers = upstreams.map((p, i) => `  server u${i} 127.0.0.1:${p} check inter 1s fall 3 rise 2`).join('\n');
  return `global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  http-reuse safe
${tuned ? '  option redispatch 1\n  retries 3\n  retry-on conn-failure empty-response response-timeout 0rtt-rejected junk-response\n' : ''}frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  balance roundrobin
${servers}
`;
}

async function haproxy(port: number, upstreams: number[], tuned: boolean): Promise<ChildProcess> {
  const conf = join(dir, `haproxy-${tuned ? 'tuned' : 'default'}.cfg`);
  writeFileSync(conf, haproxyConfig(port, upstreams, tuned));
  const child = start('haproxy', ['-f', conf, '-db'], 'haproxy');
  await waitHttp(`http://127.0.0.1:${port}/`);
  return child;
}

/** A minimal Node proxy (bench/floor-proxy.ts): what node:http and undici cost without Bulwark's logic. */
async function floorProxy(port: number, upstreams: number[]): Promise<ChildProcess> {
  const child = start(process.execPath, ['--import', 'tsx', 'bench/floor-proxy.ts', String(port), ...upstreams.map(String)], 'floor proxy');
  await waitHttp(`http://127.0.0.1:${port}/`);
  return child;
}

async function bulwark(port: number, upstreams: number[], engine: 'builtin' | 'haproxy' = 'builtin'): Promise<ChildProcess> {
  const api = await freePort();
  const conf = join(dir, `bulwark-${engine}.yaml`);
  const endpoints = upstreams.map((p, i) => `      - { url: "http://127.0.0.1:${p}", name: u${i}, zone: z${i} }`).join('\n');
  // The haproxy engine gets nbthread 1, as the raw HAProxy it is compared with.
  writeFileSync(conf, `gateway: { workers: ${WORKERS}, engine: ${engine}${engine === 'haproxy' ? ', haproxy: { threads: 1 }' : ''} }
zones: { z0: { region: r }, z1: { region: r }, z2: { region: r } }
services:
  bench:
    listen: 127.0.0.1:${port}
    endpoints:
${endpoints}
    health_check: { path: /health, interval: 1s, timeout: 500ms, fall: 3, rise: 2 }
    retries: { attempts: 2, retry_on: [connect-failure, reset, gateway-error] }
    timeout: 30s
`);
  const child = start(process.execPath, ['dist/cli/main.js', 'up', '-c', conf, '--data-dir', join(dir, `data-${engine}`), '--listen', `127.0.0.1:${api}`, '--log-level', 'warn', '--log-format', 'json'], 'bulwark');
  await waitHttp(`http://127.0.0.1:${api}/readyz`);
  await waitHttp(`http://127.0.0.1:${port}/`);
  return child;
}

interface WrkResult { rps: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number; requests: number }

function parseLatency(text: string, pct: string): number {
  const m = new RegExp(`\\s${pct}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(url: string, seconds: number, duringRun?: () => void): Promise<WrkResult> {
  const child = spawn('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const timer = duringRun && setTimeout(duringRun, (seconds * 1000) / 3);
  await new Promise((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: parseLatency(out, '50'),
    p99Ms: parseLatency(out, '99'),
    errors: socket ? socket.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

type Contender = 'haproxy' | 'floor' | 'bulwark' | 'bulwarkHaproxy';

async function throughput(upstreams: number[]) {
  const ports: Record<Contender, number> = { haproxy: await freePort(), floor: await freePort(), bulwark: await freePort(), bulwarkHaproxy: await freePort() };
  const procs = [await haproxy(ports.haproxy, upstreams, false), await floorProxy(ports.floor, upstreams), await bulwark(ports.bulwark, upstreams), await bulwark(ports.bulwarkHaproxy, upstreams, 'haproxy')];
  const contenders = Object.keys(ports) as Contender[];
  const runs: Record<Contender, WrkResult[]> = { haproxy: [], floor: [], bulwark: [], bulwarkHaproxy: [] };
  for (const c of contenders) await wrk(`http://127.0.0.1:${ports[c]}/`, 2);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of contenders) runs[c].push(await wrk(`http://127.0.0.1:${ports[c]}/`, SECONDS));
  }
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1000));
  const summary = (rs: WrkResult[]) => ({ rps: median(rs.map((r) => r.rps)), p50Ms: median(rs.map((r) => r.p50Ms)), p99Ms: median(rs.map((r) => r.p99Ms)), errors: rs.reduce((a, r) => a + r.errors + r.non2xx, 0) });
  return { haproxy: summary(runs.haproxy), floor: summary(runs.floor), bulwark: summary(runs.bulwark), bulwarkHaproxy: summary(runs.bulwarkHaproxy) };
}

async function killOne(kind: 'haproxy default' | 'haproxy tuned' | 'bulwark') {
  const ports = [await freePort(), await freePort(), await freePort()];
  const ups = ports.map((p) => nginx(p));
  for (const p of ports) await waitHttp(`http://127.0.0.1:${p}/health`);
  const port = await freePort();
  const proxy = kind === 'bulwark' ? await bulwark(port, ports) : await haproxy(port, ports, kind === 'haproxy tuned');
  await new Promise((r) => setTimeout(r, 2500)); // health checks settle
  const result = await wrk(`http://127.0.0.1:${port}/`, SECONDS, () => ups[0]?.kill('SIGKILL'));
  proxy.kill(kind === 'bulwark' ? 'SIGTERM' : 'SIGKILL');
  for (const u of ups) u.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 1000));
  return { kind, requests: result.requests, failed: result.errors + result.non2xx };
}

async function main() {
  ensureTools();
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const ports = [await freePort(), await freePort(), await freePort()];
  const ups = ports.map((p) => nginx(p));
  for (const p of ports) await waitHttp(`http://127.0.0.1:${p}/health`);
  const t = await throughput(ports);
  for (const u of ups) u.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  const kills = [];
  if (!values['no-kill']) for (const kind of ['haproxy default', 'haproxy tuned', 'bulwark'] as const) kills.push(await killOne(kind));

  const f = (n: number, d = 0) => n.toFixed(d);
  console.log(`\nGateway throughput: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, median of ${ROUNDS} interleaved rounds, 3 nginx upstreams, keep-alive both sides; HAProxy nbthread 1, Bulwark gateway workers: ${WORKERS}`);
  console.log('proxy        rps       p50       p99       errors   rps ratio  p99 ratio (to HAProxy)');
  const row = (name: string, r: typeof t.haproxy) => console.log(`${name.padEnd(24)} ${f(r.rps).padEnd(9)} ${`${f(r.p50Ms, 2)}ms`.padEnd(9)} ${`${f(r.p99Ms, 2)}ms`.padEnd(9)} ${String(r.errors).padEnd(8)} ${`${f(r.rps / t.haproxy.rps, 2)}×`.padEnd(10)} ${f(r.p99Ms / t.haproxy.p99Ms, 2)}×`);
  row('haproxy', t.haproxy);
  row('node floor', t.floor);
  row('bulwark', t.bulwark);
  row('bulwark (haproxy engine)', t.bulwarkHaproxy);
  console.log('(goal for bulwark: ≥ 0.5× rps, p99 ≤ 2×; node floor: bench/floor-proxy.ts, node:http + undici with no gateway logic)');
  if (kills.length > 0) console.log(`\nOne of three upstreams SIGKILLed a third into a ${SECONDS}s wrk run:`);
  for (const k of kills) console.log(`${k.kind.padEnd(16)} ${String(k.failed).padStart(6)} failed of ${k.requests}`);
  console.log(JSON.stringify({ throughput: t, kills }));
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
