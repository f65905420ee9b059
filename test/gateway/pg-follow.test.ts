/**
 * The gateway's TCP service for a database follows the primary (real processes):
 * two PostgreSQL servers (primary + streaming replica), the gateway in front
 * (in this process, or as the daemon runs it with two worker processes), and
 * the leader key in a real etcd, written by hand (no member managers).
 *
 * Requirement: the service follows the primary within one second of the change
 * and closes the sessions still on the old primary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { EtcdClient } from '../../src/coordination/etcd-client.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { silentLogger } from '../../src/core/logger.js';
import { EventBus } from '../../src/events/index.js';
import { Gateway } from '../../src/gateway/index.js';
import { PostgresMember, primaryTrackerFactory } from '../../src/postgres-ha/index.js';
import { queryRows } from '../../src/postgres-ha/pg-query.js';
import type { ProbeEvents } from '../../src/probes/index.js';
import { findPostgresBinDir } from '../../src/testing/postgres-server.js';
import { freePort } from '../../src/testing/net.js';
import { runAsUser } from '../../src/testing/run-as.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const USER = 'bulwark';
const LEADER_KEY = '/bulwark/db/main-db/leader';
/** The requirement. */
const FOLLOW_BOUND_MS = 1_000;

interface Pair {
  dir: string;
  password: string;
  m1: PostgresMember;
  m2: PostgresMember;
}

let etcd: EtcdCluster;
let etcdClient: EtcdClient;
let pair: Pair | undefined;
let gateway: Gateway | undefined;
let harness: ChildProcess | undefined;
const clients = new Set<pg.Client>();

beforeAll(async () => {
  etcd = await EtcdCluster.start({ size: 1 });
  etcdClient = new EtcdClient({ endpoints: etcd.clientUrls(), timeoutMs: 2_000 });
});

afterEach(async () => {
  for (const c of clients) await c.end().catch(() => undefined);
  clients.clear();
  await gateway?.stop(AbortSignal.timeout(3_000));
  gateway = undefined;
  if (harness && harness.exitCode === null) {
    const exited = new Promise((r) => harness?.once('exit', r));
    harness.kill('SIGTERM');
    await exited;
  }
  harness = undefined;
  if (pair) {
    await Promise.all([pair.m1.fence(), pair.m2.fence()]);
    await rm(pair.dir, { recursive: true, force: true });
  }
  pair = undefined;
  await etcdClient.delete(LEADER_KEY);
});

afterAll(async () => {
  await etcdClient?.close();
  await etcd?.stopAll();
});

/** m1 primary, m2 its streaming replica (slot m2), a table `t`. */
async function startPair(): Promise<Pair> {
  const [binDir, runAs] = await Promise.all([findPostgresBinDir(), runAsUser()]);
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-pg-follow-'));
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await mkdir(join(dir, 'sock'));
  await writeFile(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (runAs) for (const p of [dir, join(dir, 'sock'), join(dir, 'pwfile')]) await chown(p, runAs.uid, runAs.gid);
  const p1 = await freePort();
  let p2 = await freePort();
  while (p2 === p1) p2 = await freePort();
  const member = (name: string, port: number) => new PostgresMember({
    name, binDir, dataDir: join(dir, name), socketDir: join(dir, 'sock'), host: '127.0.0.1', port,
    user: USER, password, ...(runAs ? { runAs } : {}), settings: { fsync: 'off' },
  });
  const created: Pair = { dir, password, m1: member('m1', p1), m2: member('m2', p2) };
  pair = created;
  await created.m1.initdb(join(dir, 'pwfile'));
  await created.m1.start();
  await created.m1.ensureSlots(['m2']);
  await queryRows(created.m1.endpoint, 'CREATE TABLE t (id serial PRIMARY KEY, via text NOT NULL)');
  await created.m2.basebackup(created.m1.endpoint);
  await created.m2.start();
  await until(async () => (await created.m1.streamingStandbys()).includes('m2'), 'm2 streaming from m1');
  return created;
}

function yaml(p: Pair, listen: number, options: { etcd: boolean; workers?: number }): string {
  return `${options.etcd ? `coordination:\n  etcd: { endpoints: [${etcd.clientUrls().join(', ')}] }\n` : ''}${options.workers ? `gateway: { workers: ${options.workers} }\n` : ''}databases:
  main-db:
    postgres:
      listen: 127.0.0.1:${listen}
      superuser: ${USER}
      superuser_password: ${p.password}
      members:
        - { name: m1, host: 127.0.0.1, port: ${p.m1.endpoint.port} }
        - { name: m2, host: 127.0.0.1, port: ${p.m2.endpoint.port} }
`;
}

/** The gateway as the daemon builds it, in this process. */
async function startGateway(p: Pair, options: { etcd: boolean }): Promise<number> {
  const listen = await freePort();
  const loaded = parseConfigText(yaml(p, listen, options), 'pg-follow.yaml', { lint: false });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.findings));
  gateway = new Gateway(loaded.config, new EventBus<ProbeEvents>(), new Registry(), silentLogger(), { primaries: primaryTrackerFactory() });
  await gateway.start();
  return listen;
}

/** The gateway in its own process with worker processes (the daemon's `gateway.workers`). */
async function startWorkerGateway(p: Pair, workers: number): Promise<{ listen: number; stderr: () => string }> {
  const listen = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/gateway/pg-follow-harness.ts'], {
    cwd: ROOT, env: { ...process.env, BULWARK_TEST_YAML: yaml(p, listen, { etcd: true, workers }) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  harness = child;
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      if (c.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`gateway harness exited with ${String(code)}: ${stderr.slice(-2000)}`)));
  });
  return { listen, stderr: () => stderr };
}

async function connect(listen: number, name: string): Promise<pg.Client> {
  const client = new pg.Client({
    host: '127.0.0.1', port: listen, user: USER, password: pair?.password, database: 'postgres',
    application_name: name, connectionTimeoutMillis: 8_000, query_timeout: 5_000,
  });
  client.on('error', () => undefined);
  clients.add(client);
  await client.connect();
  return client;
}

/** Which server a session is on, and whether it accepts writes there. */
async function where(client: pg.Client): Promise<{ port: number; writable: boolean }> {
  const { rows } = await client.query<{ port: number; r: boolean }>('SELECT inet_server_port() AS port, pg_is_in_recovery() AS r');
  return { port: Number(rows[0]?.port), writable: rows[0]?.r === false };
}

function ended(client: pg.Client): Promise<number> {
  return new Promise((resolve) => client.once('end', () => resolve(performance.now())));
}

/** Sessions on a member's server with this application_name (asked directly, not through the gateway). */
async function sessionsOn(member: PostgresMember, name: string): Promise<number> {
  const rows = await queryRows<{ n: string }>(member.endpoint, 'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
  return Number(rows[0]?.n);
}

/**
 * From the end of the promotion: the first new connection through the gateway
 * that lands on the new primary and finds it writable. Connections that arrive
 * while no primary is known are held by the gateway, so one attempt usually does it.
 */
async function firstConnectionTo(listen: number, member: PostgresMember, since: number): Promise<{ ms: number; attempts: number; client: pg.Client }> {
  for (let attempts = 1; ; attempts++) {
    try {
      const client = await connect(listen, `after-promotion-${attempts}`);
      const at = await where(client);
      if (at.port === member.endpoint.port && at.writable) return { ms: performance.now() - since, attempts, client };
      await client.end();
    } catch {
      // refused or closed while no primary was known: try again
    }
    if (performance.now() - since > 10_000) throw new Error('no connection through the gateway reached the new primary within 10 s');
  }
}

interface Promotion {
  /** The moment the new primary became writable, as a direct tight loop of pg_is_in_recovery() saw it (send time of the first "false"). */
  writableAt: number;
  /** A client that connected through the gateway before the promotion (held by it): from writableAt until it ran a query on the new primary. */
  heldMs: number;
  /** The first fresh connection after promote() returned: from writableAt until its first query on the new primary. */
  freshMs: number;
  /** promote() returned this long after the server became writable (pg_promote polls). */
  promoteReturnedMs: number;
  attempts: number;
  client: pg.Client;
}

/**
 * Promotes `member` and measures how long the gateway takes to send clients to
 * it, from the moment it accepts writes: a client already waiting in the
 * gateway, and a fresh one connecting once the promotion call returned.
 */
async function promoteAndMeasure(listen: number, member: PostgresMember): Promise<Promotion> {
  const direct = new pg.Client({ ...member.endpoint, database: 'postgres', application_name: 'test-watch' });
  direct.on('error', () => undefined);
  clients.add(direct);
  await direct.connect();
  const watching = (async () => {
    for (;;) {
      const sent = performance.now();
      const { rows } = await direct.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (rows[0]?.r === false) return sent;
    }
  })();
  const held = connect(listen, 'held-during-promotion').then(async (c) => ({ at: await where(c), doneAt: performance.now(), client: c }));
  // Let it reach the gateway and wait there.
  await new Promise((r) => setTimeout(r, 100));
  await member.promote();
  const promotedAt = performance.now();
  const writableAt = await watching;
  const fresh = await firstConnectionTo(listen, member, promotedAt);
  const h = await held;
  expect(h.at).toEqual({ port: member.endpoint.port, writable: true });
  return {
    writableAt, heldMs: h.doneAt - writableAt, freshMs: fresh.ms + (promotedAt - writableAt),
    promoteReturnedMs: promotedAt - writableAt, attempts: fresh.attempts, client: fresh.client,
  };
}

function describePromotion(m: Promotion): string {
  return `new primary writable → held client on it through the gateway ${Math.round(m.heldMs)} ms, `
    + `fresh connection ${Math.round(m.freshMs)} ms (${m.attempts} attempt(s); promote() itself returned ${Math.round(m.promoteReturnedMs)} ms after writable)`;
}

async function insertVia(client: pg.Client, via: string): Promise<number> {
  const { rows } = await client.query<{ id: number }>('INSERT INTO t (via) VALUES ($1) RETURNING id', [via]);
  return Number(rows[0]?.id);
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function note(annotate: (text: string) => Promise<unknown>, text: string): Promise<void> {
  console.log(text);
  await annotate(text);
}

describe('gateway TCP service follows the PostgreSQL primary (real processes)', () => {
  it('leader key moves while the old primary still runs: the gateway closes its sessions; the new primary is reached within 1 s of its promotion; writes go through', async ({ annotate }) => {
    const p = await startPair();
    await etcdClient.put(LEADER_KEY, 'm1');
    const listen = await startGateway(p, { etcd: true });

    const before = await connect(listen, 'before-move');
    expect(await where(before)).toEqual({ port: p.m1.endpoint.port, writable: true });
    await insertVia(before, 'gateway-m1');
    expect(await sessionsOn(p.m1, 'before-move')).toBe(1);

    // The leader key moves to m2 (as when m1 lost its lease); m1 is NOT fenced and still accepts writes.
    const closed = ended(before);
    const movedAt = performance.now();
    await etcdClient.put(LEADER_KEY, 'm2');
    const closeMs = (await closed) - movedAt;
    expect(p.m1.running).toBe(true);
    expect((await queryRows<{ r: boolean }>(p.m1.endpoint, 'SELECT pg_is_in_recovery() AS r'))[0]?.r).toBe(false);
    await until(async () => (await sessionsOn(p.m1, 'before-move')) === 0, 'the session gone from m1');
    await expect(before.query('SELECT 1')).rejects.toThrow();

    // A client that connects before m2 is promoted is held, then sent to m2.
    const m = await promoteAndMeasure(listen, p.m2);
    const id = await insertVia(m.client, 'gateway-m2');
    const rows = await queryRows<{ via: string }>(p.m2.endpoint, 'SELECT via FROM t WHERE id = $1', [id]);
    expect(rows[0]?.via).toBe('gateway-m2');
    expect((await queryRows<{ via: string }>(p.m2.endpoint, 'SELECT via FROM t ORDER BY id'))[0]?.via).toBe('gateway-m1');

    await note(annotate, `in-daemon, etcd: key moved → gateway closed the session on the still-running old primary in ${Math.round(closeMs)} ms; ${describePromotion(m)}`);
    expect(closeMs).toBeLessThan(FOLLOW_BOUND_MS);
    expect(m.heldMs).toBeLessThan(FOLLOW_BOUND_MS);
    expect(m.freshMs).toBeLessThan(FOLLOW_BOUND_MS);
  });

  it('fence the primary, then the key moves and the replica is promoted (the failover order): new connections reach the new primary within 1 s', async ({ annotate }) => {
    const p = await startPair();
    await etcdClient.put(LEADER_KEY, 'm1');
    const listen = await startGateway(p, { etcd: true });
    const before = await connect(listen, 'before-fence');
    expect((await where(before)).port).toBe(p.m1.endpoint.port);

    const closed = ended(before);
    await p.m1.fence();
    await closed;
    await etcdClient.delete(LEADER_KEY);
    await etcdClient.put(LEADER_KEY, 'm2');
    const m = await promoteAndMeasure(listen, p.m2);
    await insertVia(m.client, 'after-failover');

    await note(annotate, `in-daemon, etcd, m1 fenced first: ${describePromotion(m)}`);
    expect(m.heldMs).toBeLessThan(FOLLOW_BOUND_MS);
    expect(m.freshMs).toBeLessThan(FOLLOW_BOUND_MS);
  });

  it('without etcd (scan of the members): fence the primary and promote the replica; the new primary is reached within 1 s', async ({ annotate }) => {
    const p = await startPair();
    const listen = await startGateway(p, { etcd: false });
    const before = await connect(listen, 'scan-before');
    expect((await where(before)).port).toBe(p.m1.endpoint.port);

    const closed = ended(before);
    await p.m1.fence();
    await closed;
    const m = await promoteAndMeasure(listen, p.m2);
    await insertVia(m.client, 'after-failover-scan');

    await note(annotate, `in-daemon, scan (no etcd), m1 fenced: ${describePromotion(m)}`);
    expect(m.heldMs).toBeLessThan(FOLLOW_BOUND_MS);
    expect(m.freshMs).toBeLessThan(FOLLOW_BOUND_MS);
  });

  it('with two gateway worker processes: the daemon decides, the workers close the old primary\'s sessions and route to the new one', async ({ annotate }) => {
    const p = await startPair();
    await etcdClient.put(LEADER_KEY, 'm1');
    const gw = await startWorkerGateway(p, 2);

    // Six sessions: the primary hands new connections to the least-loaded worker, so each holds three.
    const sessions = await Promise.all(Array.from({ length: 6 }, (_, i) => connect(gw.listen, `worker-before-${i}`)));
    for (const s of sessions) expect((await where(s)).port).toBe(p.m1.endpoint.port);

    const closed = Promise.all(sessions.map(ended));
    const movedAt = performance.now();
    await etcdClient.put(LEADER_KEY, 'm2');
    const closeMs = Math.max(...(await closed)) - movedAt;
    expect(p.m1.running).toBe(true);
    await until(async () => (await queryRows<{ n: string }>(p.m1.endpoint, "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'worker-before-%'"))[0]?.n === '0', 'sessions gone from m1');

    const m = await promoteAndMeasure(gw.listen, p.m2);
    await insertVia(m.client, 'via-workers');
    // Every later connection (whichever worker takes it) lands on m2.
    for (let i = 0; i < 6; i++) expect((await where(await connect(gw.listen, `worker-after-${i}`))).port).toBe(p.m2.endpoint.port);

    const closers = new Set(gw.stderr().split('\n').filter((l) => l.includes('its sessions were closed')).map((l) => (JSON.parse(l) as { worker?: number }).worker));
    await note(annotate, `2 workers, etcd: key moved → all 6 sessions on the still-running old primary closed in ${Math.round(closeMs)} ms (by ${closers.size} worker(s)); `
      + describePromotion(m));
    expect([...closers].every((w) => typeof w === 'number')).toBe(true);
    expect(closers.size).toBe(2);
    expect(closeMs).toBeLessThan(FOLLOW_BOUND_MS);
    expect(m.heldMs).toBeLessThan(FOLLOW_BOUND_MS);
    expect(m.freshMs).toBeLessThan(FOLLOW_BOUND_MS);
  });
});
