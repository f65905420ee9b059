import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../coordination/index.js';
import { EtcdCluster } from '../testing/etcd-cluster.js';
import { BulwarkError } from '../core/errors.js';
import { findPostgresBinDir } from './bin-dir.js';
import { freePort } from '../testing/net.js';
import { runAsUser, type RunAs } from '../testing/run-as.js';
import { bootstrap, controlData, type BootstrapOptions } from './bootstrap.js';
import { probeMembers, waitForNewPrimary, type ControlTopology } from './control.js';
import { databaseKeys, type HistoryEntry } from './keys.js';
import { PostgresMember } from './postgres-process.js';

const USER = 'bulwark';

async function rejection(promise: Promise<unknown>): Promise<BulwarkError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof BulwarkError)) throw new Error(`expected a BulwarkError, got ${String(err)}`);
  return err;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

describe('bulwark db init against real PostgreSQL and etcd', () => {
  let dir: string;
  let binDir: string;
  let runAs: RunAs | undefined;
  let etcdCluster: EtcdCluster;
  let etcd: EtcdClient;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  let n = 0;

  beforeAll(async () => {
    [binDir, runAs, etcdCluster] = await Promise.all([findPostgresBinDir(), runAsUser(), EtcdCluster.start({ size: 1 })]);
    etcd = new EtcdClient({ endpoints: etcdCluster.clientUrls(), timeoutMs: 2000 });
    dir = await mkdtemp(join(tmpdir(), 'bulwark-bootstrap-'));
    // The PostgreSQL user must be able to reach the data directories inside.
    await chmod(dir, 0o755);
  });
  afterAll(async () => {
    await etcd?.close();
    await etcdCluster?.stopAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Options for a fresh database named dbN whose three members live under dir/dbN. */
  async function options(overrides: Partial<BootstrapOptions> = {}): Promise<BootstrapOptions> {
    const database = `db${++n}`;
    const base = join(dir, database);
    const members = await Promise.all(['m1', 'm2', 'm3'].map(async (name) => ({ name, host: '127.0.0.1', port: await freePort(), dataDir: join(base, name) })));
    return {
      database, members, binDir, socketDir: join(base, 'sock'), runAs, superuser: USER, password, settings: { fsync: 'off' },
      etcd: { client: etcd, keys: databaseKeys(database) }, timeoutMs: 60_000, ...overrides,
    };
  }

  let initialized: BootstrapOptions;

  it('init: three data directories with checksums, slots on the primary, the sync record, every server stopped', async () => {
    const o = await options();
    const steps: string[] = [];
    const result = await bootstrap({ ...o, onStep: (s) => steps.push(s) });
    initialized = o;
    expect(result).toMatchObject({ mode: 'init', primary: 'm1', replicas: ['m2', 'm3'], remote: [], slots: ['m2', 'm3'], dataChecksums: { m1: true, m2: true, m3: true } });
    expect(steps).toEqual(result.steps);
    expect(steps.join('\n')).toMatch(/initdb m1 .*data checksums on[\s\S]*replication slots on m1: m2, m3[\s\S]*base backup of m2[\s\S]*base backup of m3[\s\S]*stopped m1, m2, m3 cleanly/);
    for (const m of o.members) {
      expect(await exists(join(m.dataDir!, 'PG_VERSION'))).toBe(true);
      expect(await exists(join(m.dataDir!, 'postmaster.pid')), `${m.name} still running`).toBe(false);
      expect((await controlData(o, m.dataDir!)).state).toBe(m.name === 'm1' ? 'shut down' : 'shut down in recovery');
    }
    expect((await readdir(join(o.members[0]!.dataDir!, 'pg_replslot'))).sort()).toEqual(['m2', 'm3']);
    expect(await exists(join(o.members[1]!.dataDir!, 'standby.signal'))).toBe(true);
    const sync = await etcd.get(databaseKeys(o.database).sync);
    expect(JSON.parse(sync.kv!.value)).toEqual({ leader: 'm1', members: ['m1'] });
    expect(result.sync).toEqual({ leader: 'm1', members: ['m1'] });
  }, 180_000);

  it('the direct view and the wait for a writable primary work on the initialized members', async () => {
    const o = initialized;
    const pgs = o.members.slice(0, 2).map((m) => new PostgresMember({
      name: m.name, binDir, dataDir: m.dataDir!, socketDir: o.socketDir, host: m.host, port: m.port, user: USER, password, runAs,
    }));
    try {
      for (const pg of pgs) await pg.start();
      const topology: ControlTopology = {
        database: o.database, synchronousMode: true, maximumLagOnFailover: 0n,
        members: o.members.map((m) => ({ name: m.name, endpoint: { host: m.host, port: m.port, user: USER, password } })),
      };
      const direct = await probeMembers(topology, { timeoutMs: 2000 });
      expect(direct[0]).toMatchObject({ name: 'm1', reachable: true, role: 'primary', timeline: 1 });
      expect(direct[1]).toMatchObject({ name: 'm2', reachable: true, role: 'replica', timeline: 1 });
      expect(direct[2]).toMatchObject({ name: 'm3', reachable: false });
      expect(direct[2]?.error).toMatch(/ECONNREFUSED|connect/);

      // As a failover would end: the key names m1, m1 accepts writes, the history says so.
      const keys = databaseKeys(o.database);
      const requestedAt = new Date().toISOString();
      const writtenAt = performance.now();
      const entry: HistoryEntry = { kind: 'manual-failover', from: undefined, to: 'm1', timeline: 1, at: new Date().toISOString(), durationMs: 321 };
      const lease = await etcd.grantLease(30);
      await etcd.put(keys.leader, 'm1', { lease: lease.id });
      await etcd.put(keys.history, JSON.stringify([entry]));
      const done = await waitForNewPrimary({ etcd, keys, topology }, { kind: 'failover', to: 'm1', requestKey: keys.failover, requestedAt, writtenAt, timeoutMs: 10_000 });
      expect(done.leader).toBe('m1');
      expect(done.history).toEqual(entry);
      expect(done.elapsedMs).toBeLessThan(5000);
      await etcd.revokeLease(lease.id);
    } finally {
      for (const pg of pgs.reverse()) await pg.stop();
    }
  }, 120_000);

  it('--adopt finds the primary with pg_controldata, ensures its slots and records it', async () => {
    const o = initialized;
    const wrong = await rejection(bootstrap({ ...o, adopt: true, primary: 'm2' }));
    expect(wrong.message).toBe('--adopt: the primary is m1, not m2');
    await etcd.delete(databaseKeys(o.database).sync);
    await etcd.put(databaseKeys(o.database).optime, '5/0');
    const result = await bootstrap({ ...o, adopt: true });
    expect((await etcd.get(databaseKeys(o.database).optime)).kv).toBeUndefined();
    expect(result.steps).toContain(`removed a stale /bulwark/db/${o.database}/optime of an earlier cluster`);
    expect(result).toMatchObject({ mode: 'adopt', primary: 'm1', replicas: ['m2', 'm3'], dataChecksums: { m1: true, m2: true, m3: true } });
    expect(result.steps.join('\n')).toMatch(/m1: shut down, timeline 1, stopped[\s\S]*m2: shut down in recovery \(standby.signal\)/);
    expect(JSON.parse((await etcd.get(databaseKeys(o.database).sync)).kv!.value)).toEqual({ leader: 'm1', members: ['m1'] });
    for (const m of o.members) expect(await exists(join(m.dataDir!, 'postmaster.pid'))).toBe(false);
    // Servers running: used as they are, then stopped with pg_ctl.
    const running = o.members.slice(0, 2).map((m) => new PostgresMember({
      name: m.name, binDir, dataDir: m.dataDir!, socketDir: o.socketDir, host: m.host, port: m.port, user: USER, password, runAs,
    }));
    for (const pg of running) await pg.start();
    const again = await bootstrap({ ...o, adopt: true });
    expect(again.steps.join('\n')).toMatch(/m1: in production, timeline 1, running[\s\S]*m2: in archive recovery \(standby.signal\), timeline 1, running[\s\S]*m3: shut down in recovery/);
    expect(running.map((pg) => pg.running)).toEqual([false, false]);
    for (const m of o.members) expect(await exists(join(m.dataDir!, 'postmaster.pid'))).toBe(false);
    // A running leader in etcd means the cluster is live: refused.
    const lease = await etcd.grantLease(30);
    await etcd.put(databaseKeys(o.database).leader, 'm1', { lease: lease.id });
    expect((await rejection(bootstrap({ ...o, adopt: true }))).message).toMatch(/etcd already has a leader for db\d+ \(m1\)/);
    await etcd.revokeLease(lease.id);
  }, 120_000);

  it('refuses a data_dir that is not empty, and writes nothing', async () => {
    const o = await options();
    const m2 = o.members[1]!.dataDir!;
    await mkdir(m2, { recursive: true });
    await writeFile(join(m2, 'keep-me'), 'x');
    const err = await rejection(bootstrap(o));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe(`m2's data_dir ${m2} is not empty`);
    expect(err.hint).toMatch(/--adopt/);
    expect(await exists(o.members[0]!.dataDir!)).toBe(false);
    expect(await exists(o.members[2]!.dataDir!)).toBe(false);
    expect(await exists(o.socketDir)).toBe(false);
    expect(await readdir(m2)).toEqual(['keep-me']);
    expect((await etcd.get(databaseKeys(o.database).sync)).kv).toBeUndefined();
  });

  it('refuses a port in use, member records in etcd, and root without run_as', async () => {
    const busy = await options();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(busy.members[2]!.port, '127.0.0.1', resolve));
    try {
      expect((await rejection(bootstrap(busy))).message).toBe(`m3's port 127.0.0.1:${busy.members[2]!.port} is in use`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const live = await options();
    await etcd.put(databaseKeys(live.database).member('m2'), '{"role":"replica"}');
    expect((await rejection(bootstrap(live))).message).toMatch(/etcd already has member records for db\d+ \(m2\)/);
    for (const o of [busy, live]) for (const m of o.members) expect(await exists(m.dataDir!)).toBe(false);
    if (process.getuid?.() === 0) {
      const err = await rejection(bootstrap({ ...(await options()), runAs: undefined }));
      expect(err.code).toBe('USAGE');
      expect(err.message).toMatch(/PostgreSQL refuses to run as root/);
      expect(err.hint).toMatch(/run_as/);
    }
  });
});
