import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrimaryWithReplica, type PrimaryWithReplica } from '../testing/pg-replication.js';
import type { CheckResult } from '../types.js';
import { classifyPostgresError, postgresCheck, type PostgresCheckSpec, type StandbyObservation } from './postgres.js';

let cluster: PrimaryWithReplica;

function spec(port: number, extra: Partial<PostgresCheckSpec> = {}): PostgresCheckSpec {
  return { host: '127.0.0.1', port, user: cluster.user, password: cluster.password, ...extra };
}

function probe(s: PostgresCheckSpec, timeoutMs = 5000): Promise<CheckResult> {
  return postgresCheck.run(s, { signal: AbortSignal.timeout(timeoutMs), timeoutMs });
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Probes until `done` holds (no fixed sleeps: each probe is a round trip). */
async function probeUntil(s: PostgresCheckSpec, done: (r: CheckResult) => boolean, withinMs = 20_000): Promise<CheckResult> {
  const deadline = Date.now() + withinMs;
  let last = await probe(s);
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`condition not reached; last result: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await probe(s);
  }
  return last;
}

function standby(r: CheckResult): StandbyObservation | undefined {
  return (r.observations.replicas as StandbyObservation[] | undefined)?.find((x) => x.application_name === 'replica1');
}

async function listen(onConnection: (socket: Socket) => void = () => undefined): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => { sockets.push(socket); onConnection(socket); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets };
}

beforeAll(async () => {
  cluster = await startPrimaryWithReplica();
  await sql(cluster.primary.url, 'CREATE TABLE load (id int, payload text)');
});

afterAll(async () => {
  await cluster?.stop();
});

describe('postgresCheck against a real primary and streaming replica', () => {
  it('reports the primary, SELECT 1 ok, and its streaming standby', async () => {
    // replay_lsn is null until the standby's first feedback message.
    const r = await probeUntil(spec(cluster.primary.port, { expectRole: 'primary' }), (x) => typeof standby(x)?.lagBytes === 'number');
    expect(r).toMatchObject({ ok: true, observations: { role: 'primary' } });
    expect(r.reason).toBeUndefined();
    expect(standby(r)).toMatchObject({ client_addr: '127.0.0.1', state: 'streaming', sync_state: 'async' });
    expect(typeof standby(r)?.lagBytes).toBe('number');
  });

  it('reports the replica with its lag in bytes and seconds once it has replayed a transaction', async () => {
    await sql(cluster.primary.url, "INSERT INTO load VALUES (0, 'first')");
    const r = await probeUntil(spec(cluster.replica.port), (x) => typeof x.observations.replayAgeSeconds === 'number' && x.observations.lagBytes === 0);
    expect(r).toMatchObject({ ok: true, observations: { role: 'replica', walReceiverStatus: 'streaming', streaming: true, lagBytes: 0 } });
    expect(r.observations.lagSeconds).toBeGreaterThanOrEqual(0);
    expect(r.observations.lagSeconds).toBeLessThan(5);
    expect(typeof r.observations.replayAgeSeconds).toBe('number');
  });

  it('fails with condition on an unexpected role or too much lag', async () => {
    const wrongRole = await probe(spec(cluster.primary.port, { expectRole: 'replica' }));
    expect(wrongRole).toMatchObject({ ok: false, reason: 'condition', observations: { role: 'primary' } });
    expect(wrongRole.message).toBe('condition failed: role == replica (was primary)');
    const onReplica = await probe(spec(cluster.replica.port, { expectRole: 'primary' }));
    expect(onReplica).toMatchObject({ ok: false, reason: 'condition' });
    const lag = await probe(spec(cluster.replica.port, { maxLagBytes: -1 }));
    expect(lag).toMatchObject({ ok: false, reason: 'condition' });
    expect(lag.message).toMatch(/^condition failed: lagBytes <= -1/);
    expect(await probe(spec(cluster.replica.port, { maxLagBytes: 16 * 1024 * 1024 }))).toMatchObject({ ok: true });
  });

  it('sees a stopped standby fall behind under write load and catch up after restart', async () => {
    await cluster.replica.stop();
    await sql(cluster.primary.url, "INSERT INTO load SELECT g, repeat('x', 1000) FROM generate_series(1, 20000) g");
    const during = await probe(spec(cluster.primary.port));
    expect(during.ok).toBe(true); // the primary's health does not depend on its standbys
    const gone = standby(during);
    if (gone) expect(gone.lagBytes).toBeGreaterThan(20 * 1000 * 1000);
    const down = await probe(spec(cluster.replica.port, {}), 2000);
    expect(down).toMatchObject({ ok: false, reason: 'refused' });

    await cluster.replica.start();
    const caughtUp = await probeUntil(spec(cluster.primary.port), (x) => (standby(x)?.lagBytes ?? Infinity) === 0);
    expect(standby(caughtUp)).toMatchObject({ state: 'streaming', lagBytes: 0 });
    const replica = await probeUntil(spec(cluster.replica.port), (x) => x.observations.lagBytes === 0);
    expect(replica).toMatchObject({ ok: true, observations: { role: 'replica', streaming: true } });
  });

  it('reports auth for a wrong password and never echoes the password', async () => {
    const r = await probe(spec(cluster.primary.port, { password: 'not-the-password' }));
    expect(r).toMatchObject({ ok: false, reason: 'auth' });
    expect(r.message).toMatch(/password authentication failed/);
    expect(r.message).not.toContain('not-the-password');
    expect(r.message).not.toContain(cluster.password);
  });

  it('reports refused for a closed port', async () => {
    const { server, port } = await listen();
    await new Promise((resolve) => server.close(resolve));
    const r = await probe(spec(port));
    expect(r).toMatchObject({ ok: false, reason: 'refused' });
    expect(r.message).toMatch(/ECONNREFUSED/);
  });

  it('times out within 100 ms of the deadline on a server that accepts and never answers', async () => {
    const silent = await listen();
    try {
      const started = performance.now();
      const r = await probe(spec(silent.port), 300);
      const wall = performance.now() - started;
      expect(r).toMatchObject({ ok: false, reason: 'timeout' });
      expect(wall).toBeGreaterThanOrEqual(295);
      expect(wall).toBeLessThan(400);
      expect(r.durationMs).toBeLessThan(400);
    } finally {
      silent.sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.server.close(resolve));
    }
  });
});

describe('classifyPostgresError', () => {
  it('maps SQLSTATEs and socket codes to reasons', () => {
    expect(classifyPostgresError({ code: '28P01' })).toBe('auth');
    expect(classifyPostgresError({ code: '28000' })).toBe('auth');
    expect(classifyPostgresError({ code: '57014' })).toBe('timeout');
    expect(classifyPostgresError({ code: 'ENOTFOUND' })).toBe('dns');
    expect(classifyPostgresError({ errors: [{ code: 'ECONNREFUSED' }] })).toBe('refused');
    expect(classifyPostgresError(new Error('timeout expired'))).toBe('timeout');
    expect(classifyPostgresError({ code: '3D000', message: 'database "x" does not exist' })).toBe('error');
  });
});
