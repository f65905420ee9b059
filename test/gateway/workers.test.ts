import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, Harness, logLines, startDaemon, waitFor } from '../daemon/helpers.js';

const h = new Harness();
const children = new Set<ChildProcess>();
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  await h.cleanup();
});

/** An upstream in its own process that answers /health at once and every other request after `delayMs`. */
async function upstream(port: number, delayMs = 0): Promise<void> {
  const code = `require('node:http').createServer((q, s) => { q.resume(); if (q.url === '/health') { s.end('ok'); return; } setTimeout(() => { s.writeHead(200, {'content-type': 'text/plain'}); s.end('done'); }, ${delayMs}); })
    .listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  await new Promise((resolve) => child.stdout?.once('data', resolve));
}

function yaml(listen: number, upstreamPort: number, accept = 'least_connections'): string {
  return `gateway: { workers: 2, accept: ${accept} }
zones: { z0: { region: r1 }, z1: { region: r2 } }
services:
  api:
    listen: 127.0.0.1:${listen}
    endpoints:
      - { url: "http://127.0.0.1:${upstreamPort}", name: e0, zone: z0 }
      - { url: "http://127.0.0.1:${upstreamPort}", name: e1, zone: z1, backup: true }
    health_check: { path: /health, interval: 200ms, timeout: 100ms, fall: 2, rise: 2 }
    timeout: 10s
`;
}

/** One keep-alive request on a fresh raw connection; resolves with the socket (still open) and the response text. */
async function keepAliveRequest(port: number): Promise<{ socket: Socket; response: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.add(socket);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  const response = new Promise<string>((resolve, reject) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      if (/\r\n\r\n[\s\S]*(done|"code")/.test(text)) resolve(text);
    });
    socket.once('close', () => resolve(text));
    socket.once('error', reject);
  });
  socket.write('GET / HTTP/1.1\r\nhost: test\r\nconnection: keep-alive\r\n\r\n');
  return { socket, response };
}

/** Which process holds each established server-side connection on `port` (ss, iproute2). */
function connectionsByPid(port: number): Map<number, number> {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const counts = new Map<number, number>();
  for (const m of out.matchAll(/pid=(\d+)/g)) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
  return counts;
}

describe('gateway worker processes', () => {
  it('the primary hands each new connection to the worker holding the fewest (10 keep-alive clients: 5 and 5)', async () => {
    const upstreamPort = await freePort();
    await upstream(upstreamPort);
    const listen = await freePort();
    await startDaemon(h, { yaml: yaml(listen, upstreamPort) });
    const opened = await Promise.all(Array.from({ length: 10 }, () => keepAliveRequest(listen)));
    for (const { response } of opened) expect(await response).toMatch(/^HTTP\/1\.1 200/);

    const byPid = await waitFor(() => {
      const counts = connectionsByPid(listen);
      return [...counts.values()].reduce((a, b) => a + b, 0) === 10 ? counts : undefined;
    }, 'all 10 connections established');
    expect([...byPid.values()].sort()).toEqual([5, 5]);
  });

  it('a gateway worker SIGKILLed: no connection hangs, new ones are served by the survivor, a replacement starts and takes its share', async () => {
    const upstreamPort = await freePort();
    await upstream(upstreamPort);
    const listen = await freePort();
    const daemon = await startDaemon(h, { yaml: yaml(listen, upstreamPort) });
    const workerPids = () => execFileSync('pgrep', ['-P', String(daemon.proc.child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number).filter((n) => n > 0);
    const before = await waitFor(() => (workerPids().length === 2 ? workerPids() : undefined), 'two workers');
    process.kill(before[0] as number, 'SIGKILL');

    // Fresh connections, one request each. A connection handed over in the instant the
    // worker dies dies with it (reset, as with any crashed proxy process); none may hang,
    // and once the daemon has seen the death every one is answered.
    const requests = async (ms: number) => {
      const failures: string[] = [];
      let answered = 0;
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const res = await fetch(`http://127.0.0.1:${listen}/`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(3_000) }).catch((err: Error) => err);
        if (res instanceof Error) failures.push(String(res.cause ?? res));
        else if (res.status !== 200) failures.push(`status ${res.status}`);
        else answered++;
        if (res instanceof Response) await res.text();
      }
      return { failures, answered };
    };
    const atKill = await requests(500);
    expect(atKill.failures.length).toBeLessThanOrEqual(2);
    for (const f of atKill.failures) expect(f).toMatch(/ECONNRESET|socket hang up|other side closed/);
    await waitFor(() => (logLines(daemon.proc.stderr()).some((l) => l.msg === 'gateway worker died; starting another') ? true : undefined), 'the daemon to see the death');
    const afterDeath = await requests(1_500);
    expect(afterDeath.failures).toEqual([]);
    expect(afterDeath.answered).toBeGreaterThan(20);

    const after = await waitFor(() => {
      const pids = workerPids();
      return pids.length === 2 && !pids.includes(before[0] as number) ? pids : undefined;
    }, 'a replacement worker');
    expect(after).toContain(before[1]);
    const replacement = after.find((pid) => pid !== before[1]);
    await waitFor(() => (logLines(daemon.proc.stderr()).some((l) => l.msg === 'gateway worker serving' && l.worker === replacement) ? true : undefined), 'the replacement serving');
    // Workers report their open connections every 250 ms; let the survivor's short-lived ones be counted as closed.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const opened = await Promise.all(Array.from({ length: 10 }, () => keepAliveRequest(listen)));
    for (const { response } of opened) expect(await response).toMatch(/^HTTP\/1\.1 200/);
    const byPid = await waitFor(() => {
      const counts = connectionsByPid(listen);
      return [...counts.values()].reduce((a, b) => a + b, 0) === 10 ? counts : undefined;
    }, 'all 10 connections established');
    expect([...byPid.keys()].sort()).toEqual([...after].sort());
    expect([...byPid.values()]).toEqual([5, 5]);
  });

  it.each(['least_connections', 'kernel'])('SIGTERM (accept: %s): an in-flight request finishes on its worker, then the daemon exits 0', async (accept) => {
    const upstreamPort = await freePort();
    await upstream(upstreamPort, 1_500);
    const listen = await freePort();
    const daemon = await startDaemon(h, { yaml: yaml(listen, upstreamPort, accept) });
    const { response } = await keepAliveRequest(listen);
    await new Promise((resolve) => setTimeout(resolve, 300));
    daemon.proc.child.kill('SIGTERM');
    expect(await response).toMatch(/^HTTP\/1\.1 200[\s\S]*done/);
    const exit = await daemon.proc.exited;
    expect(exit.code).toBe(0);
    // No new connections once the daemon is stopping.
    await expect(keepAliveRequest(listen)).rejects.toThrow(/ECONNREFUSED/);
  });
});
