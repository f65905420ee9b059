/**
 * DatabaseHaService on real processes, from a parsed bulwark.yaml: one etcd,
 * three PostgreSQL members on this host prepared as `bulwark db init` leaves
 * them (m1 initdb'd, m2 and m3 base-backed-up through their slots, all
 * stopped cleanly, the sync set naming m1), then the service starts them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/index.js';
import { EtcdClient } from '../coordination/etcd-client.js';
import { EtcdCluster } from '../coordination/testing/etcd-cluster.js';
import { EventBus } from '../events/index.js';
import { memoryLogger } from '../testing/memory-logger.js';
import { freePort } from '../testing/net.js';
import { runAsUser } from '../testing/run-as.js';
import { findPostgresBinDir } from './bin-dir.js';
import { DatabaseHaService, type DatabaseHaEvents } from './ha-service.js';
import { databaseKeys } from './keys.js';
import { queryRows } from './pg-query.js';
import { PostgresMember, type RunAs } from './postgres-process.js';

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
});
