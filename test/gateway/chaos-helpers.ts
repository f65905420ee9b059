/**
 * Shared pieces of the gateway chaos tests: upstreams in their own processes (so a
 * test can SIGKILL them like crashed servers), a load generator that records every
 * latency and failure, and readers for the daemon's pool status and memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export type UpstreamBehaviour =
  /** 200 with the id as body on every path. */
  | 'ok'
  /** /health answers 200; every other path 503. */
  | 'fail-503'
  /** /health answers 200; every other path is accepted and never answered. */
  | 'hang-requests'
  /** A raw TCP server that accepts connections and never writes a byte (health checks time out too). */
  | 'blackhole';

function upstreamCode(port: number, id: string, behaviour: UpstreamBehaviour): string {
  const ready = `() => process.stdout.write('ready\\n')`;
  if (behaviour === 'blackhole') {
    // Keep every socket referenced so nothing is collected or closed.
    return `const held = []; require('node:net').createServer((s) => { held.push(s); s.on('error', () => undefined); })
      .listen(${port}, '127.0.0.1', ${ready});`;
  }
  const handler = {
    ok: `s.writeHead(200, {'content-type': 'text/plain'}); s.end(${JSON.stringify(id)});`,
    'fail-503': `if (q.url === '/health') { s.writeHead(200); s.end('ok'); } else { s.writeHead(503, {'content-type': 'text/plain'}); s.end('503 from ' + ${JSON.stringify(id)}); }`,
    'hang-requests': `if (q.url === '/health') { s.writeHead(200); s.end('ok'); } /* else: never answer */`,
  }[behaviour];
  return `require('node:http').createServer((q, s) => { q.resume(); ${handler} })
    .listen(${port}, '127.0.0.1', ${ready});`;
}

/** Upstream processes of one test; `killAll()` in afterEach SIGKILLs whatever is left. */
export class Upstreams {
  private readonly children = new Set<ChildProcess>();

  async start(port: number, id: string, behaviour: UpstreamBehaviour = 'ok'): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', upstreamCode(port, id, behaviour)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    await new Promise((resolve, reject) => {
      child.stdout?.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`upstream ${id} exited with ${String(code)} before listening`)));
    });
    return child;
  }

  killAll(): void {
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
  }
}

export interface Load {
  ok: number;
  failed: string[];
  latenciesMs: number[];
  byUpstream: Map<string, number>;
  stop(): Promise<void>;
}

/** Idempotent GETs from `concurrency` loops until stopped; every non-200 or error is a failure. */
export function load(url: string, concurrency: number, timeoutMs = 5_000): Load {
  const state: Load = { ok: 0, failed: [], latenciesMs: [], byUpstream: new Map(), stop: async () => undefined };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const started = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const body = await res.text();
        state.latenciesMs.push(performance.now() - started);
        if (res.status === 200) {
          state.ok++;
          state.byUpstream.set(body, (state.byUpstream.get(body) ?? 0) + 1);
        } else state.failed.push(`${res.status} ${body.slice(0, 120)}`);
      } catch (err) {
        state.latenciesMs.push(performance.now() - started);
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

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export interface PoolEndpoint { id: string; health: string; admin: string; ejected: boolean; active: number; serving: boolean }

export async function poolStatus(base: string, token: string, service = 'api'): Promise<PoolEndpoint[]> {
  const res = await fetch(`${base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`status API answered ${res.status}`);
  const body = await res.json() as { gateway: Record<string, { endpoints: PoolEndpoint[] }> };
  const pool = body.gateway[service];
  if (!pool) throw new Error(`no gateway pool for ${service}`);
  return pool.endpoints;
}

/** Resident set size of a process in KiB, from /proc (Linux only). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}
