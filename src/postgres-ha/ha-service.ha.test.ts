/**
 * DatabaseHaService on real processes, from a parsed bulwark.yaml: one etcd,
 * three PostgreSQL members on this host prepared as `bulwark db init` leaves
 * them (m1 initdb'd, m2 and m3 base-backed-up through their slots, all
 * stopped cleanly, the sync set naming m1), then the service starts them.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { parseConfigText } from '../config/index.js';
import { EtcdClient } from '../coordination/index.js';
import { EtcdCluster } from '../testing/etcd-cluster.js';
import { EventBus } from '../events/index.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { freePort } from '../testing/net.js';
import { runAsUser } from '../testing/run-as.js';
import { findPostgresBinDir } from './bin-dir.js';
import { DatabaseHaService, type DatabaseHaEvents } from './ha-service.js';
import { databaseKeys } from './keys.js';
import { queryRows } from './pg-query.js';
import { PostgresMember, type RunAs } from './postgres-process.js';
import { FailoverWriter } from './testing/failover-writer.js';

const execFileAsync = promisify(execFile);
const USER = 'bulwark';
const NAMES = ['m1', 'm2', 'm3'] as const;

interface Setup {
  dir: string;
  etcd: EtcdCluster;
  client: EtcdClient;
  password: string;
  ports: number[];
  healthPorts: number[];
  yaml: string;
}

let setup: Setup | undefined;
const logger = memoryLogger();

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function userName(runAs: RunAs | undefined): Promise<string | undefined> {
  return runAs ? (await execFileAsync('id', ['-un', String(runAs.uid)])).stdout.trim() : undefined;
}

/** What `bulwark db init` leaves behind: three data directories, stopped cleanly, and the sync set naming m1. */
async function prepare(): Promise<Setup> {
  const [binDir, runAs, etcd] = await Promise.all([findPostgresBinDir(), runAsUser(), EtcdCluster.start({ size: 1 })]);
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-ha-service-'));
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const client = new EtcdClient({ endpoints: etcd.clientUrls(), timeoutMs: 2000 });
  const s: Setup = { dir, etcd, client, password, ports: [], healthPorts: [], yaml: '' };
  setup = s;
  await mkdir(join(dir, 'sock'));
  await writeFile(join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (runAs) for (const p of [dir, join(dir, 'sock'), join(dir, 'pwfile')]) await chown(p, runAs.uid, runAs.gid);
  const all = await distinctPorts(6);
  s.ports = all.slice(0, 3);
  s.healthPorts = all.slice(3);
  const pgs = NAMES.map((name, i) => new PostgresMember({
    name, binDir, dataDir: join(dir, name), socketDir: join(dir, 'sock'), host: '127.0.0.1', port: s.ports[i] ?? 0,
    user: USER, password, runAs, settings: { fsync: 'off' }, noSync: true,
  }));
  const [primary, ...replicas] = pgs as [PostgresMember, PostgresMember, PostgresMember];
  await primary.initdb(join(dir, 'pwfile'));
  await primary.start();
  await primary.ensureSlots(replicas.map((r) => r.name));
  await queryRows(primary.endpoint, 'CREATE TABLE t (id int PRIMARY KEY)');
  await queryRows(primary.endpoint, 'CREATE TABLE w (seq int PRIMARY KEY)');
  for (const replica of replicas) {
    await replica.basebackup(primary.endpoint);
    await replica.start();
  }
  for (const replica of replicas) await replica.stop();
  await primary.stop();
  await client.put(databaseKeys('main').sync, JSON.stringify({ leader: 'm1', members: ['m1'] }));

  const members = NAMES.map((name, i) =>
    `        - { name: ${name}, port: ${s.ports[i]}, data_dir: ${join(dir, name)}, health_port: ${s.healthPorts[i]} }`).join('\n');
  const runAsLine = runAs ? `      run_as: ${await userName(runAs)}\n` : '';
  s.yaml = `coordination:
  etcd: { endpoints: [${etcd.clientUrls().join(', ')}] }
databases:
  main:
    postgres:
      members:
${members}
      synchronous: true
      ttl: 10s
      loop_wait: 1s
      retry_timeout: 2s
      superuser: ${USER}
      superuser_password: \${env:PG_PASSWORD}
      bin_dir: ${binDir}
${runAsLine}      socket_dir: ${join(dir, 'sock')}
`;
  return s;
}

async function status(port: number, path: string): Promise<number> {
  try {
    const res = await request(`http://127.0.0.1:${port}${path}`, { headersTimeout: 2000, bodyTimeout: 2000 });
    await res.body.text();
    return res.statusCode;
  } catch {
    return 0;
  }
}

async function healthMatrix(s: Setup): Promise<{ primary: string[]; replica: string[] }> {
  const rows = await Promise.all(NAMES.map(async (name, i) => ({
    name, primary: await status(s.healthPorts[i] ?? 0, '/primary'), replica: await status(s.healthPorts[i] ?? 0, '/replica'),
  })));
  return { primary: rows.filter((r) => r.primary === 200).map((r) => r.name), replica: rows.filter((r) => r.replica === 200).map((r) => r.name) };
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await prepare();
}, 60_000);

afterAll(async () => {
  if (process.env.HA_LOG) await writeFile(process.env.HA_LOG, logger.lines.map((l) => JSON.stringify(l)).join('\n'));
  if (!setup) return;
  await setup.client.close().catch(() => undefined);
  await setup.etcd.stopAll();
  await rm(setup.dir, { recursive: true, force: true });
});

describe('DatabaseHaService on etcd and PostgreSQL', () => {
  it('starts three members from bulwark.yaml: one primary, two replicas, health endpoints and metrics agree; stops cleanly', async (ctx) => {
    const s = setup as Setup;
    const loaded = parseConfigText(s.yaml, join(s.dir, 'bulwark.yaml'), { env: { PG_PASSWORD: s.password } });
    expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
    const registry = new Registry();
    const bus = new EventBus<DatabaseHaEvents>();
    const promoted: string[] = [];
    bus.on('database.promoted', (e) => promoted.push(e.member));
    const service = new DatabaseHaService({ config: loaded.config!, bus, registry, log: logger.log });
    ctx.onTestFailed(() => {
      ctx.task.result?.errors?.push({ name: 'log', message: logger.lines.slice(-60).map((l) => JSON.stringify(l)).join('\n') } as never);
    });
    try {
      await service.start();
      // Generous: three servers, etcd and the managers share two cores with the rest of the suite.
      const health = await until('one primary and two replicas on the health endpoints', 90_000, async () => {
        const m = await healthMatrix(s);
        return m.primary.length === 1 && m.replica.length === 2 ? m : undefined;
      });
      expect(health).toEqual({ primary: ['m1'], replica: ['m2', 'm3'] });
      // Synchronous mode: a write waits for a standby, so wait for them to stream first.
      await until('the synchronous set to settle on m2, m3', 60_000, async () => ((await syncMembers(s)) === 'm2,m3' ? true : undefined));
      expect(promoted).toEqual(['m1']);
      expect(await status(s.healthPorts[0] ?? 0, '/health')).toBe(200);
      expect(await status(s.healthPorts[1] ?? 0, '/primary')).toBe(503);

      // The primary really takes writes; a replica really refuses them.
      const endpoint = (i: number) => ({ host: '127.0.0.1', port: s.ports[i] ?? 0, user: USER, password: s.password });
      await queryRows(endpoint(0), 'INSERT INTO t VALUES (1)');
      await expect(queryRows(endpoint(1), 'INSERT INTO t VALUES (2)')).rejects.toThrow(/read-only/);

      const metrics = await registry.metrics();
      expect(metrics).toContain('bulwark_db_member_role{database="main",member="m1",role="primary"} 1');
      expect(metrics).toContain('bulwark_db_member_role{database="main",member="m2",role="replica"} 1');
      expect(metrics).toContain('bulwark_db_member_role{database="main",member="m3",role="replica"} 1');
      expect(metrics).toContain('bulwark_db_member_leader{database="main",member="m1"} 1');
      expect(metrics).toContain('bulwark_db_member_leader{database="main",member="m2"} 0');
      expect(metrics).toContain('bulwark_db_member_fenced{database="main",member="m1"} 0');
      expect(metrics).toMatch(/bulwark_db_member_lag_bytes\{database="main",member="m2"\} \d+/);

      const view = await service.database('main');
      expect(view).toMatchObject({ leader: 'm1', managed_here: true, failover: 'automatic' });
      expect(view?.members.map((m) => m.record?.role)).toEqual(['primary', 'replica', 'replica']);
    } finally {
      await service.stop(AbortSignal.timeout(30_000));
    }
    // Every PostgreSQL is down, every health endpoint closed, and the leader key released.
    for (let i = 0; i < NAMES.length; i++) {
      await expect(queryRows({ host: '127.0.0.1', port: s.ports[i] ?? 0, user: USER, password: s.password }, 'SELECT 1', [], { timeoutMs: 1000 })).rejects.toThrow();
      expect(await status(s.healthPorts[i] ?? 0, '/health')).toBe(0);
    }
    expect((await s.client.get(databaseKeys('main').leader)).kv).toBeUndefined();
  }, 150_000);
  it('a second service on the same data directories (other ports) is refused before it writes anything', async (ctx) => {
    const s = setup as Setup;
    const first = await running(s, ctx);
    try {
      const leader = await settledLeader(s);
      const before = await configChecksums(s);
      const [p1, p2, p3, h1, h2, h3] = await distinctPorts(6);
      let other = s.yaml;
      for (const [i, port] of [p1, p2, p3].entries()) other = other.replace(`port: ${s.ports[i]},`, `port: ${port},`);
      for (const [i, port] of [h1, h2, h3].entries()) other = other.replace(`health_port: ${s.healthPorts[i]}`, `health_port: ${port}`);
      const secondLog = memoryLogger();
      const second = new DatabaseHaService({ config: loadConfig(s, other), bus: new EventBus<DatabaseHaEvents>(), registry: new Registry(), log: secondLog.log });
      const refused = await second.start().then(() => undefined, (err: unknown) => err);
      await second.stop(AbortSignal.timeout(10_000));
      expect(refused).toMatchObject({ code: 'DATA_DIR_LOCKED' });
      expect(String((refused as Error).message)).toMatch(new RegExp(`already managed by the member manager of main/m1, pid ${process.pid}`));
      expect(secondLog.lines.filter((l) => ['member manager started', 'postgres started'].includes(String(l.msg)))).toEqual([]);
      const after = await configChecksums(s);
      expect(Object.keys(after).filter((k) => after[k] !== before[k])).toEqual([]);
      // The first one never noticed: still one primary and two replicas, writes still acknowledged by a standby.
      expect(await healthMatrix(s)).toEqual({ primary: [leader], replica: NAMES.filter((n) => n !== leader) });
    } finally {
      await first.stop(AbortSignal.timeout(30_000));
    }
  }, 150_000);

  it('synchronous_standby_names changed behind the leader is put back within a loop; standbys replicate as the replication role', async (ctx) => {
    const s = setup as Setup;
    const service = await running(s, ctx);
    try {
      const leader = await settledLeader(s);
      const primary = endpointOf(s, leader);
      const senders = await queryRows<{ usename: string; application_name: string }>(primary, 'SELECT usename, application_name FROM pg_stat_replication ORDER BY application_name');
      expect(senders.map((r) => `${r.application_name}:${r.usename}`)).toEqual(NAMES.filter((n) => n !== leader).map((n) => `${n}:replicator`));
      const roles = await queryRows<{ rolreplication: boolean; rolsuper: boolean }>(primary, "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = 'replicator'");
      expect(roles).toEqual([{ rolreplication: true, rolsuper: false }]);

      const intended = await liveSyncNames(primary);
      expect(intended).toMatch(/^ANY 1 \(/);
      await queryRows(primary, "ALTER SYSTEM SET synchronous_standby_names = ''");
      await queryRows(primary, 'SELECT pg_reload_conf()');
      const changedAt = performance.now();
      await until('synchronous_standby_names to be put back', 10_000, async () => ((await liveSyncNames(primary)) === intended ? true : undefined));
      const restoredMs = Math.round(performance.now() - changedAt);
      const metrics = await service.metricsText();
      expect(metrics).toMatch(new RegExp(`bulwark_db_setting_drift_total\\{database="main",member="${leader}",setting="synchronous_standby_names"\\} [1-9]`));
      ctx.annotate(`drift restored ${restoredMs} ms after the change (loop_wait 1 s)`);
      expect(logger.lines.some((l) => String(l.msg).includes('changed behind the leader'))).toBe(true);
    } finally {
      await service.stop(AbortSignal.timeout(30_000));
    }
  }, 150_000);

  it('a switchover without a target promotes the member the leader chose and waited for; the new primary never acknowledges alone', async (ctx) => {
    const s = setup as Setup;
    const service = await running(s, ctx);
    const writer = new FailoverWriter(NAMES.map((name) => ({ name, endpoint: endpointOf(s, name) })), 'w');
    try {
      const from = await settledLeader(s);
      writer.start();
      await writer.until((acks) => acks.length >= 100, 30_000);
      const lease = await s.client.grantLease(30);
      const mark = logger.lines.length;
      await s.client.put(databaseKeys('main').switchover, JSON.stringify({ from, requestedAt: new Date().toISOString() }), { lease: lease.id });
      const to = await until('a new leader', 30_000, async () => {
        const name = (await s.client.get(databaseKeys('main').leader)).kv?.value;
        return name && name !== from ? name : undefined;
      });
      const chosen = logger.lines.slice(mark).find((l) => l.msg === 'switchover target chosen') as { to?: string } | undefined;
      expect(chosen?.to).toBe(to);
      const after = writer.acks.length;
      await writer.until((acks) => acks.length >= after + 100 && acks.at(-1)?.member === to, 30_000);
      await until('the old leader back as a synchronous standby', 30_000, async () => ((await syncMembers(s)) === NAMES.filter((n) => n !== to).join(',') ? true : undefined));
      await writer.stop();
      const metrics = await service.metricsText();
      const alone = new RegExp(`bulwark_db_commits_without_sync_standby_total\\{database="main",member="${to}"\\} ([0-9.]+)`).exec(metrics)?.[1];
      ctx.annotate(`switchover ${from} -> ${to}; commits acknowledged without a synchronous standby: ${alone ?? 0}`);
      expect(Number(alone ?? 0)).toBe(0);
      const missing = await queryRows<{ seq: number }>(endpointOf(s, to), 'SELECT a.seq FROM unnest($1::int[]) AS a(seq) LEFT JOIN w USING (seq) WHERE w.seq IS NULL', [writer.acks.map((a) => a.seq)]);
      expect(missing).toEqual([]);
    } finally {
      await writer.stop();
      await service.stop(AbortSignal.timeout(30_000));
    }
  }, 150_000);
});

function loadConfig(s: Setup, yaml: string) {
  const loaded = parseConfigText(yaml, join(s.dir, 'bulwark.yaml'), { env: { PG_PASSWORD: s.password } });
  expect(loaded.findings.filter((f) => f.severity === 'error')).toEqual([]);
  return loaded.config!;
}

/** The service started from the fixture's bulwark.yaml, with its log attached to a failure; `metricsText` reads its registry. */
async function running(s: Setup, ctx: TestContext): Promise<DatabaseHaService & { metricsText: () => Promise<string> }> {
  const registry = new Registry();
  const service = new DatabaseHaService({ config: loadConfig(s, s.yaml), bus: new EventBus<DatabaseHaEvents>(), registry, log: logger.log });
  ctx.onTestFailed(() => {
    ctx.task.result?.errors?.push({ name: 'log', message: logger.lines.slice(-60).map((l) => JSON.stringify(l)).join('\n') } as never);
  });
  await service.start();
  await until('one primary and two replicas on the health endpoints', 90_000, async () => {
    const m = await healthMatrix(s);
    return m.primary.length === 1 && m.replica.length === 2 ? m : undefined;
  });
  return Object.assign(service, { metricsText: () => registry.metrics() });
}

/** The leader, once both other members are in the recorded synchronous set. */
function settledLeader(s: Setup): Promise<string> {
  return until('a leader with both standbys synchronous', 60_000, async () => {
    const name = (await s.client.get(databaseKeys('main').leader)).kv?.value;
    return name && (await syncMembers(s)) === NAMES.filter((n) => n !== name).join(',') ? name : undefined;
  });
}

function endpointOf(s: Setup, name: string) {
  return { host: '127.0.0.1', port: s.ports[NAMES.indexOf(name as (typeof NAMES)[number])] ?? 0, user: USER, password: s.password };
}

async function syncMembers(s: Setup): Promise<string> {
  const kv = (await s.client.get(databaseKeys('main').sync)).kv;
  return kv ? (JSON.parse(kv.value) as { members: string[] }).members.join(',') : '';
}

async function liveSyncNames(endpoint: ReturnType<typeof endpointOf>): Promise<string> {
  const rows = await queryRows<{ v: string }>(endpoint, "SELECT current_setting('synchronous_standby_names') AS v");
  return rows[0]?.v ?? '';
}

/** The configuration files of every data directory (missing ones as absent): what a second manager must not touch. */
async function configChecksums(s: Setup): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of NAMES) {
    for (const file of ['postgresql.conf', 'postgresql.auto.conf', 'pg_hba.conf', 'standby.signal', 'postmaster.pid']) {
      const data = await readFile(join(s.dir, name, file)).catch(() => undefined);
      out[`${name}/${file}`] = data ? createHash('sha256').update(data).digest('hex') : 'absent';
    }
  }
  return out;
}
