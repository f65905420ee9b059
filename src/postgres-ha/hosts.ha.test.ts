/**
 * Members on separate hosts: three network namespaces on a bridge, each with its own 10.x
 * address, its own PostgreSQL 15 on port 5432 and its own member manager (a child process run
 * with `ip netns exec`); etcd listens on the bridge. m1 is initialised; m2 and m3 start with
 * empty data directories and copy themselves over the network from the leader. A fourth
 * namespace, not a member, is refused by pg_hba.conf. Then m1's host dies (every process in it
 * SIGKILLed) and a replica on another host takes over. Root only (skipped otherwise).
 */
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdClient } from '../coordination/index.js';
import { freePort } from '../testing/net.js';
import { NetnsHosts } from '../testing/netns-hosts.js';
import { runAsUser, type RunAs } from '../testing/run-as.js';
import { findPostgresBinDir } from './bin-dir.js';
import { queryRows, type PgEndpoint } from './pg-query.js';
import { PostgresMember, type PostgresMemberOptions } from './postgres-process.js';
import { MemberProcess } from './testing/member-process.js';
import { waitUntil, waitUntilAsync } from './testing/ha-cluster.js';
import { noteFor } from './testing/fault-tools.js';

const execFileAsync = promisify(execFile);
const SUPERUSER = 'bulwark';
const PASSWORD = 'pw-hosts-test';
const REPLICATION = { user: 'replicator', password: 'repl-hosts-test' };
const NAMES = ['m1', 'm2', 'm3'];
const available = await NetnsHosts.available();

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** One etcd member on the bridge's address, reachable from every namespace. */
async function startEtcd(dir: string, address: string): Promise<{ url: string; child: ChildProcess }> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://${address}:${client}`;
  const child = spawn('etcd', ['--name', 'e1', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`, '--initial-cluster', `e1=http://127.0.0.1:${peer}`],
  { stdio: 'ignore', env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_'))) });
  cleanups.push(async () => child.kill('SIGKILL'));
  const etcd = new EtcdClient({ endpoints: [url], timeoutMs: 1000 });
  await waitUntilAsync(() => etcd.get('/probe').then(() => true, () => false), 15_000, 'etcd on the bridge');
  await etcd.close();
  return { url, child };
}

/** m1's cluster, made in the test's namespace on loopback (another port), then stopped: its manager starts it on its host. */
async function initPrimary(o: PostgresMemberOptions, pwfile: string): Promise<void> {
  const boot = new PostgresMember({ ...o, host: '127.0.0.1', port: await freePort(), peerHosts: [] });
  await boot.initdb(pwfile);
  await boot.start();
  try {
    await boot.ensureReplicationRole({ timeoutMs: 10_000 });
    await boot.ensureSlots(NAMES.slice(1), { timeoutMs: 10_000 });
    await queryRows(boot.endpoint, 'CREATE TABLE t (seq int PRIMARY KEY)');
  } finally {
    await boot.stop();
  }
}

async function memberDirs(dir: string, name: string, runAs: RunAs | undefined): Promise<{ dataDir: string; socketDir: string }> {
  const dataDir = join(dir, name, 'data');
  const socketDir = join(dir, name, 'sock');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await mkdir(socketDir, { recursive: true });
  if (runAs) for (const p of [join(dir, name), dataDir, socketDir]) await chown(p, runAs.uid, runAs.gid);
  return { dataDir, socketDir };
}

describe.skipIf(!available)('PostgreSQL members on separate hosts (network namespaces on a bridge)', () => {
  it('replicates across hosts with SCRAM, lets in its peers only, and a replica on another host takes over when the primary host dies', async (ctx) => {
    const note = noteFor(ctx);
    const net = await NetnsHosts.create(4);
    cleanups.push(() => net.destroy());
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-hosts-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const [binDir, runAs] = await Promise.all([findPostgresBinDir(), runAsUser()]);
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
    if (runAs) await chown(pwfile, runAs.uid, runAs.gid);
    const etcd = await startEtcd(dir, net.bridgeAddress);

    const addresses = NAMES.map((_, i) => net.host(i).address);
    // The bridge's address stands for an application host (the test's own clients): a peer like the members.
    const options = await Promise.all(NAMES.map(async (name, i): Promise<PostgresMemberOptions> => ({
      name, binDir, ...(await memberDirs(dir, name, runAs)), host: addresses[i]!, port: 5432, user: SUPERUSER, password: PASSWORD,
      replication: REPLICATION, runAs, settings: { fsync: 'off' }, noSync: true,
      peerHosts: [...addresses.filter((_, j) => j !== i), net.bridgeAddress],
    })));
    await initPrimary(options[0]!, pwfile);
    const endpoint = (i: number): PgEndpoint => ({ host: addresses[i]!, port: 5432, user: SUPERUSER, password: PASSWORD });
    const peersOf = (i: number) => NAMES.flatMap((name, j) => (j === i ? [] : [{ name, endpoint: endpoint(j) }]));

    const log: Record<string, unknown>[] = [];
    const processes: MemberProcess[] = [];
    cleanups.push(async () => Promise.all(processes.map((p) => p.kill())));
    const startMember = async (i: number): Promise<MemberProcess> => {
      const p = await MemberProcess.start({
        pg: options[i]!, database: 'hosts', peers: peersOf(i), etcdEndpoints: [etcd.url], startPostgres: i === 0,
        manager: { synchronousMode: true, ttlSeconds: 10, loopWaitMs: 1000 },
      }, { netns: net.host(i).ns, onLog: (line) => log.push(line) });
      processes.push(p);
      return p;
    };
    const m1 = await startMember(0);
    await waitUntil(() => m1.isLeader, 20_000, 'm1 to hold the leader key');
    const copyStarted = performance.now();
    const [m2, m3] = await Promise.all([startMember(1), startMember(2)]);
    const etcdClient = new EtcdClient({ endpoints: [etcd.url], timeoutMs: 1000 });
    cleanups.push(() => etcdClient.close());
    await waitUntilAsync(async () => {
      const kv = (await etcdClient.get('/bulwark/db/hosts/sync')).kv;
      return kv !== undefined && (JSON.parse(kv.value) as { members: string[] }).members.length === 2;
    }, 60_000, 'm2 and m3 copied over the network, streaming, and in the synchronous set');
    await note(`base backups over the bridge until both replicas are synchronous standbys: ${Math.round(performance.now() - copyStarted)} ms`);

    // Streaming over the network, as the replication role, from each replica's own address.
    const senders = await queryRows<{ n: string; a: string; u: string }>(endpoint(0),
      "SELECT application_name AS n, host(client_addr) AS a, usename AS u FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1");
    expect(senders).toEqual([{ n: 'm2', a: addresses[1], u: 'replicator' }, { n: 'm3', a: addresses[2], u: 'replicator' }]);
    for (let seq = 1; seq <= 100; seq++) await queryRows(endpoint(0), 'INSERT INTO t VALUES ($1)', [seq]);
    for (const i of [1, 2]) {
      await waitUntilAsync(async () => (await queryRows<{ n: number }>(endpoint(i), 'SELECT count(*)::int AS n FROM t'))[0]?.n === 100, 10_000, `rows on ${NAMES[i]}`);
    }
    // Each member's pg_hba.conf names its own peers (m2's copy came from m1 and was rewritten at start).
    const hba = await readFile(join(options[1]!.dataDir, 'pg_hba.conf'), 'utf8');
    expect(hba).toContain(`host replication replicator ${addresses[0]}/32 scram-sha-256`);
    expect(hba).toContain(`host all all ${addresses[1]}/32 scram-sha-256`);
    expect(hba).not.toContain(net.host(3).address);
    // A host that is not a peer is refused.
    const outsider = await execFileAsync('ip', [...net.exec(3).slice(1), join(binDir, 'psql'), '-w', '-c', 'SELECT 1',
      `host=${addresses[0]} port=5432 user=${SUPERUSER} dbname=postgres connect_timeout=5`], { env: { ...process.env, PGPASSWORD: PASSWORD } })
      .then(() => 'connected', (err: { stderr?: string }) => err.stderr ?? String(err));
    expect(outsider).toContain('no pg_hba.conf entry');

    // The primary's host dies: the manager and every PostgreSQL process in it, at once.
    const acquired = new Promise<{ member: string; at: number }>((resolve) => {
      for (const [p, name] of [[m2, 'm2'], [m3, 'm3']] as const) p.once('acquired', ({ at }) => resolve({ member: name, at }));
    });
    // performance.now() of this process; MemberProcess reports the runners' event times on the same clock.
    const { at: killedAt } = await m1.kill();
    const winner = await acquired;
    const w = NAMES.indexOf(winner.member);
    // A new number per attempt: an attempt whose wait for a synchronous standby timed out on our side may still have committed.
    let seq = 100;
    await waitUntilAsync(async () => queryRows(endpoint(w), 'INSERT INTO t VALUES ($1)', [++seq], { timeoutMs: 5000 }).then(() => true, () => false), 60_000, `a write on ${winner.member}`);
    const firstWrite = performance.now();
    await note(`primary host killed: ${winner.member} took the key after ${Math.round(winner.at - killedAt)} ms, first acknowledged write after ${Math.round(firstWrite - killedAt)} ms (${seq - 100} attempts)`);
    const missing = await queryRows<{ n: number }>(endpoint(w), 'SELECT count(*)::int AS n FROM generate_series(1, 100) s WHERE s NOT IN (SELECT seq FROM t)');
    expect(missing[0]?.n).toBe(0);
    if (seq > 101) await note(log.filter((l) => Number(l.level) >= 40).slice(-20).map((l) => JSON.stringify(l)).join('\n'));
  }, 240_000);
});
