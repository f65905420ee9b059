import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { configYaml, createToken, Harness, logLines, startDaemon, waitFor, withTimeout, type Daemon } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

/**
 * Start POST /api/v1/config/validate with `Expect: 100-continue`, so the
 * server's "100 Continue" proves it has parsed the headers (the request is in
 * flight, not an idle connection) before the test goes on. Returns the request
 * and the response promise.
 */
async function startSlowValidate(d: Daemon, token: string, body: Buffer): Promise<{ req: ClientRequest; response: Promise<{ status: number; text: string }> }> {
  const req = request({
    host: '127.0.0.1',
    port: d.port,
    method: 'POST',
    path: '/api/v1/config/validate',
    agent: false,
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/yaml',
      'content-length': String(body.length),
      expect: '100-continue',
    },
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.once('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  // Avoid an unhandled rejection if the test never awaits it (the no-drain case).
  response.catch(() => undefined);
  await withTimeout(new Promise<void>((resolve) => req.once('continue', () => resolve())), 10_000, '100 Continue');
  return { req, response };
}

function connectOutcome(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const stoppingLogged = (d: Daemon) => () => (logLines(d.proc.stderr()).some((line) => line.to === 'stopping') ? true : undefined);

describe('bulwark up: graceful stop', () => {
  it('SIGTERM drains a request in flight to a complete 200, refuses new connections, and exits 0', async () => {
    const d = await startDaemon(h);
    const token = await createToken(h, d.dataDir, 'drain');
    const body = Buffer.from(configYaml('streamed'));
    const half = Math.floor(body.length / 2);

    const { req, response } = await startSlowValidate(d, token, body);
    req.write(body.subarray(0, half));

    d.proc.child.kill('SIGTERM');
    await waitFor(stoppingLogged(d), 'lifecycle "stopping" in the log');
    // The listener closes as the drain begins: a new connection is refused.
    await waitFor(async () => ((await connectOutcome(d.port)) === 'ECONNREFUSED' ? true : undefined), 'new connections refused', 5_000);
    expect(d.proc.child.exitCode).toBeNull();

    // A slow client: the rest of the body arrives a little later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    req.end(body.subarray(half));

    const answer = await withTimeout(response, 10_000, 'validate response');
    expect(answer.status).toBe(200);
    const parsed = JSON.parse(answer.text) as { ok: boolean; findings: Array<{ severity: string }> };
    expect(parsed.ok).toBe(true);
    expect(parsed.findings.filter((f) => f.severity === 'error')).toEqual([]);

    const exit = await withTimeout(d.proc.exited, 15_000, 'daemon exit');
    expect(exit).toEqual({ code: 0, signal: null });
    const lines = logLines(d.proc.stderr());
    expect(lines.some((line) => line.to === 'stopped')).toBe(true);
    expect(lines.some((line) => String(line.msg).includes('drain deadline reached'))).toBe(false);
  });

  it('with --drain-timeout 1s a request that never completes is abandoned and the daemon still exits 0', async () => {
    const d = await startDaemon(h, { extraArgs: ['--drain-timeout', '1s'] });
    const token = await createToken(h, d.dataDir, 'drain');
    const body = Buffer.from(configYaml('never-finished'));

    const { req, response } = await startSlowValidate(d, token, body);
    req.write(body.subarray(0, 10));

    const sent = Date.now();
    d.proc.child.kill('SIGTERM');
    const exit = await withTimeout(d.proc.exited, 10_000, 'daemon exit after the drain deadline');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - sent).toBeLessThan(10_000);
    expect(logLines(d.proc.stderr()).some((line) => String(line.msg).includes('drain deadline reached'))).toBe(true);
    // The abandoned client sees its connection end rather than a response.
    await expect(withTimeout(response, 5_000, 'client error')).rejects.toThrow();
  });

  it('a second signal during the drain exits at once with 130', async () => {
    const d = await startDaemon(h);
    const token = await createToken(h, d.dataDir, 'drain');
    const body = Buffer.from(configYaml('never-finished'));
    const { req } = await startSlowValidate(d, token, body);
    req.write(body.subarray(0, 10));
    d.proc.child.kill('SIGTERM');
    await waitFor(stoppingLogged(d), 'lifecycle "stopping" in the log');
    d.proc.child.kill('SIGTERM');
    const exit = await withTimeout(d.proc.exited, 8_000, 'daemon exit on the second signal');
    expect(exit).toEqual({ code: 130, signal: null });
    expect(d.proc.stderr()).toContain('second signal');
  });

  it('SIGINT also stops with exit 0', async () => {
    const d = await startDaemon(h);
    d.proc.child.kill('SIGINT');
    const exit = await withTimeout(d.proc.exited, 15_000, 'daemon exit');
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
