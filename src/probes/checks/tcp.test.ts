import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, contextFor, listen, track } from '../testing/http-fixtures.js';
import { runTcpCheck } from './tcp.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('tcp check', () => {
  it('passes when the port accepts', async () => {
    const server = createServer((socket) => socket.end());
    closers.push(track(server).close);
    const port = await listen(server);
    const result = await runTcpCheck({ host: '127.0.0.1', port }, contextFor(2000));
    expect(result.ok).toBe(true);
    expect(result.observations.connectMs).toBeTypeOf('number');
  });

  it('reports a closed port as refused', async () => {
    const port = await closedPort();
    const result = await runTcpCheck({ host: '127.0.0.1', port }, contextFor(2000));
    expect(result).toMatchObject({ ok: false, reason: 'refused' });
  });

  it('reports an unresolvable host as dns', async () => {
    const result = await runTcpCheck({ host: 'does-not-exist.invalid', port: 80 }, contextFor(3000));
    expect(['dns', 'timeout']).toContain(result.reason);
  });

  // Connecting to a non-routable address is not allowed here, and node:net always
  // accepts, so the abort path is driven directly: abort before connect can finish.
  it('reports timeout when the signal aborts before the connection is made', async () => {
    const server = createServer((socket) => socket.end());
    closers.push(track(server).close);
    const port = await listen(server);
    const controller = new AbortController();
    const pending = runTcpCheck({ host: '127.0.0.1', port }, { signal: controller.signal, timeoutMs: 5000 });
    controller.abort();
    const result = await pending;
    expect(result).toMatchObject({ ok: false, reason: 'timeout', message: 'timed out after 5000 ms' });
    expect(result.durationMs).toBeLessThan(50);
  });

  it('rejects an invalid port without connecting', async () => {
    const result = await runTcpCheck({ host: '127.0.0.1', port: 70_000 }, contextFor(100));
    expect(result).toMatchObject({ ok: false, reason: 'error' });
  });
});
