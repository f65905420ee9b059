import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../../src/testing/postgres-server.js';
import { createToken, freePort, Harness, startDaemon, waitFor } from '../daemon/helpers.js';
import { poolStatus } from './chaos-helpers.js';

const h = new Harness();
const servers: PostgresServer[] = [];
const clients = new Set<pg.Client>();
// Both members get the same role, so a client through the gateway logs in wherever it lands.
const ROLE = 'chaos';
const PASSWORD = 'chaos-pw-1';

beforeAll(async () => {
  servers.push(...(await Promise.all([startPostgres(), startPostgres()])));
  for (const server of servers) {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
    } finally {
      await admin.end();
    }
  }
});

afterEach(async () => {
  for (const client of clients) await client.end().catch(() => undefined);
  clients.clear();
  await h.cleanup();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

/** A pg client through the gateway; errors are recorded, never thrown as 'error' events. */
async function connect(listen: number): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${listen}/postgres`,
    connectionTimeoutMillis: 5_000,
    query_timeout: 5_000,
  });
  client.on('error', () => undefined);
  clients.add(client);
  await client.connect();
  return client;
}

async function serverPort(client: pg.Client): Promise<number> {
  const result = await client.query<{ one: number; port: number }>('SELECT 1 AS one, inet_server_port() AS port');
  expect(result.rows[0]?.one).toBe(1);
  return Number(result.rows[0]?.port);
}

function config(listen: number, ports: number[]): string {
  const endpoints = ports.map((p, i) => `      - { url: "127.0.0.1:${p}", name: m${i}, zone: z1 }`).join('\n');
  return `name: gateway-chaos-tcp
zones:
  z1: { region: r1 }
services:
  db:
    protocol: tcp
    listen: 127.0.0.1:${listen}
    endpoints:
${endpoints}
    health_check: { type: tcp, interval: 200ms, timeout: 150ms, fall: 2, rise: 2 }
    connect_timeout: 1s
`;
}

describe('gateway TCP mode in front of two PostgreSQL servers (real processes)', () => {
  it('stop one member: new connections through the gateway reach the survivor at once; the pool marks it down within the detection bound', async () => {
    const [first, second] = servers as [PostgresServer, PostgresServer];
    const listen = await freePort();
    const daemon = await startDaemon(h, { yaml: config(listen, [first.port, second.port]) });
    const token = await createToken(h, daemon.dataDir, 'chaos');
    await waitFor(async () => ((await poolStatus(daemon.base, token, 'db')).every((e) => e.health === 'up') ? true : undefined), 'both members up');

    // Round robin: a few connections reach both members.
    const seen = new Map<number, pg.Client>();
    for (let i = 0; i < 4; i++) {
      const client = await connect(listen);
      seen.set(await serverPort(client), client);
    }
    expect([...seen.keys()].sort()).toEqual([first.port, second.port].sort());

    const stoppedAt = Date.now();
    await first.stop();
    const stopDoneMs = Date.now() - stoppedAt;

    // Right after the stop, before any health check noticed: connect failures are
    // retried on the next upstream, so every new connection must work.
    const failures: string[] = [];
    const landed: number[] = [];
    let firstSuccessMs: number | undefined;
    for (let i = 0; i < 10; i++) {
      try {
        const client = await connect(listen);
        landed.push(await serverPort(client));
        firstSuccessMs ??= Date.now() - stoppedAt;
        await client.end();
        clients.delete(client);
      } catch (err) {
        failures.push(String(err));
      }
    }
    await waitFor(async () => ((await poolStatus(daemon.base, token, 'db')).find((e) => e.id === 'm0')?.health === 'down' ? true : undefined), 'm0 marked down', 10_000, 20);
    const detectedMs = Date.now() - stoppedAt;
    // The session that was on the stopped member ends with an error, it does not hang;
    // the one on the survivor keeps working.
    await expect(serverPort(seen.get(first.port) as pg.Client)).rejects.toThrow();
    expect(await serverPort(seen.get(second.port) as pg.Client)).toBe(second.port);
    const after = await connect(listen);
    expect(await serverPort(after)).toBe(second.port);

    console.log(`tcp: pg stop took ${stopDoneMs} ms, first new connection ok ${String(firstSuccessMs)} ms after the stop began, marked down after ${detectedMs} ms`);
    expect(failures).toEqual([]);
    expect(new Set(landed)).toEqual(new Set([second.port]));
    // Detection bound: interval × fall + timeout = 550 ms, plus the stop itself and slack.
    expect(detectedMs - stopDoneMs).toBeLessThan(3_000);
    expect(firstSuccessMs).toBeLessThan(stopDoneMs + 3_000);
  });
});
