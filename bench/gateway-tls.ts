/**
 * TLS benchmark: handshakes per second and keep-alive requests per second
 * through Bulwark's built-in gateway terminating TLS, beside raw HAProxy
 * (nbthread 1) terminating TLS in front of the same nginx upstream (plain
 * HTTP behind both), one run each on one machine. Both serve the same ECDSA
 * P-256 certificate from a test CA made here with the openssl CLI.
 *
 *   node --import tsx bench/gateway-tls.ts [--workers 1|N|auto] [--seconds 10] [--connections 32]
 *
 * Handshakes: wrk with `Connection: close`, so every request is a new TCP and
 * TLS connection (wrk resumes no sessions). Keep-alive: wrk's connections stay
 * open, so the number is TLS record cost plus proxying.
 *
 * Needs wrk, haproxy and nginx (Debian packages; installed when missing and root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTestCa } from '../src/testing/test-ca.js';
import { freePort } from '../src/testing/net.js';

const { values } = parseArgs({ options: { workers: { type: 'string', default: '1' }, seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } } });
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-tls-'));
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

/** Polls until the URL answers (https with the test CA's certificate accepted as it is). */
async function waitUp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      execFileSync('curl', ['-skf', '-o', '/dev/null', '--max-time', '2', url]);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not answer`);
}

function nginx(port: number): ChildProcess {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log stderr error;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; default_type text/plain; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; location / { return 200 'ok'; } } }
`);
  return start('nginx', ['-c', conf, '-p', dir], 'nginx');
}

async function haproxy(port: number, upstream: number, pem: string): Promise<void> {
  const conf = join(dir, 'haproxy.cfg');
  writeFileSync(conf, `global
  nbthread 1
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  http-reuse safe
frontend fe
  bind 127.0.0.1:${port} ssl crt ${pem}
  default_backend be
backend be
  server u0 127.0.0.1:${upstream}
`);
  start('haproxy', ['-f', conf, '-db'], 'haproxy');
  await waitUp(`https://127.0.0.1:${port}/`);
}

async function bulwark(port: number, upstream: number, cert: string, key: string): Promise<void> {
  const api = await freePort();
  const conf = join(dir, 'bulwark.yaml');
  writeFileSync(conf, `gateway: { workers: ${values.workers} }
services:
  bench:
    listen: 127.0.0.1:${port}
    endpoints: [{ url: "http://127.0.0.1:${upstream}", name: u0 }]
    health_check: { path: /, interval: 1s, timeout: 500ms }
    tls: { certificates: [{ cert: ${cert}, key: ${key} }] }
`);
  start(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'up', '-c', conf, '--data-dir', join(dir, 'data'), '--listen', `127.0.0.1:${api}`, '--log-level', 'warn', '--log-format', 'json'], 'bulwark');
  await waitUp(`http://127.0.0.1:${api}/readyz`);
  await waitUp(`https://127.0.0.1:${port}/`);
}

interface WrkResult { rps: number; p99Ms: number; errors: number; non2xx: number }

async function wrk(url: string, close: boolean): Promise<WrkResult> {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', ...(close ? ['-H', 'Connection: close'] : []), url];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise((resolve) => child.once('exit', resolve));
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99Ms = p99 ? Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1) : Number.NaN;
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p99Ms,
    // With Connection: close, wrk counts the server's close after each response as a read error; only connect and timeout errors are failures there.
    errors: socket ? Number(socket[1]) + Number(socket[4]) + (close ? 0 : Number(socket[2]) + Number(socket[3])) : 0,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function main(): Promise<void> {
  ensureTools();
  const ca = createTestCa();
  try {
    const issued = ca.issue({ names: ['bench.test'], ips: ['127.0.0.1'] });
    const pem = join(dir, 'haproxy.pem');
    writeFileSync(pem, readFileSync(issued.cert, 'utf8') + readFileSync(issued.key, 'utf8'));
    const [upstream, hPort, bPort] = [await freePort(), await freePort(), await freePort()];
    nginx(upstream);
    await waitUp(`http://127.0.0.1:${upstream}/`);
    await haproxy(hPort, upstream, pem);
    await bulwark(bPort, upstream, issued.cert, issued.key);
    const results: Record<string, { handshakes: WrkResult; keepAlive: WrkResult }> = {};
    for (const [name, port] of [['haproxy', hPort], ['bulwark', bPort]] as const) {
      const url = `https://127.0.0.1:${port}/`;
      results[name] = { handshakes: await wrk(url, true), keepAlive: await wrk(url, false) };
    }
    const h = results.haproxy!;
    const b = results.bulwark!;
    const f = (n: number, d = 0): string => n.toFixed(d);
    console.log(`\nTLS termination: wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, one run each, one nginx upstream (plain HTTP); ECDSA P-256; HAProxy nbthread 1, Bulwark gateway workers: ${values.workers}`);
    console.log('proxy      handshakes/s  p99        errors  | keep-alive rps  p99        errors  | ratio to HAProxy (handshakes, rps)');
    for (const [name, r] of [['haproxy', h], ['bulwark', b]] as const) {
      console.log(`${name.padEnd(10)} ${f(r.handshakes.rps).padEnd(13)} ${`${f(r.handshakes.p99Ms, 1)}ms`.padEnd(10)} ${String(r.handshakes.errors + r.handshakes.non2xx).padEnd(7)} | ${f(r.keepAlive.rps).padEnd(15)} ${`${f(r.keepAlive.p99Ms, 1)}ms`.padEnd(10)} ${String(r.keepAlive.errors + r.keepAlive.non2xx).padEnd(7)} | ${f(r.handshakes.rps / h.handshakes.rps, 2)}×, ${f(r.keepAlive.rps / h.keepAlive.rps, 2)}×`);
    }
    console.log(JSON.stringify(results));
  } finally {
    ca.cleanup();
  }
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
