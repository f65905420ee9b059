/**
 * PostgreSQL HA end to end, the way an operator runs it, with real processes
 * only: a 3-member etcd cluster, `bulwark db init`, `bulwark up` (three
 * PostgreSQL members under their HA loops, their health endpoints, the
 * gateway's front door to the primary, the admin API), `bulwark db status` and
 * `bulwark db switchover` as child processes, an application writing through
 * the gateway while the primary is switched over and then SIGKILLed, and a
 * clean SIGTERM at the end.
 *
 * Timings: the defaults (ttl 10s, loop_wait 2s, retry_timeout 3s).
 * PostgreSQL runs with fsync off (test speed): the data-loss checks are about
 * synchronous replication and the postmaster's SIGKILL, which keeps the page
 * cache, so fsync plays no part in them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../src/coordination/etcd-client.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { databaseKeys } from '../../src/postgres-ha/keys.js';
import { runAsUser } from '../../src/testing/run-as.js';
import { freePort, Harness, waitFor, withTimeout, type Proc } from '../daemon/helpers.js';
import { clock, GatewayWriter, type Ack } from './gateway-writer.js';

const execFileAsync = promisify(execFile);
const DB = 'main';
const NAMES = ['m1', 'm2', 'm3'] as const;
const PASSWORD = `pw-${randomBytes(10).toString('hex')}`;
const SUPERUSER = 'postgres';
const env = { PG_PASSWORD: PASSWORD };

interface MemberStatus {
  name: string;
  port: number;
  role: string;
  state: string;
  reachable: boolean;
  timeline: number | null;
  fenced: boolean | null;
  leader: boolean;
  inSyncSet: boolean | null;
}

interface DbStatus {
  writable: string[];
  leader: { member: string } | null;
  sync: { leader: string; members: string[] } | null;
  history: Array<{ kind: string; from?: string; to: string }>;
  members: MemberStatus[];
  notes: string[];
}

interface Member {
  name: string;
  port: number;
  healthPort: number;
  dataDir: string;
}

const h = new Harness();
let etcd: EtcdCluster | undefined;
let etcdClient: EtcdClient | undefined;
let dir: string | undefined;
let daemon: Proc | undefined;
let writer: GatewayWriter | undefined;
let members: Member[] = [];
let configFile = '';
let dataDir = '';
let apiPort = 0;
let gatewayPort = 0;
let lastStatus = '';
/** Wall-clock times of the test's steps, printed on failure beside the writer's and the daemon's. */
const marks: Record<string, string> = {};

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** The config names the run_as user; runAsUser() resolves `postgres` or `nobody` to ids. */
async function runAsName(): Promise<string | undefined> {
  const runAs = await runAsUser();
  return runAs ? (await execFileAsync('id', ['-nu', String(runAs.uid)])).stdout.trim() : undefined;
}

function yaml(etcdUrls: string[], runAs: string | undefined): string {
  return [
    'coordination:',
    `  etcd: { endpoints: [${etcdUrls.join(', ')}] }`,
    'api:',
    `  listen: 127.0.0.1:${apiPort}`,
    'databases:',
    `  ${DB}:`,
    '    postgres:',
    `      listen: 127.0.0.1:${gatewayPort}`,
    '      synchronous: true',
    `      superuser: ${SUPERUSER}`,
    '      superuser_password: ${env:PG_PASSWORD}',
    ...(runAs ? [`      run_as: ${runAs}`] : []),
    `      socket_dir: ${join(dir ?? '', 'sock')}`,
    '      settings: { fsync: "off" }',
    '      members:',
    ...members.map((m) => `        - { name: ${m.name}, host: 127.0.0.1, port: ${m.port}, data_dir: ${m.dataDir}, health_port: ${m.healthPort} }`),
    '',
  ].join('\n');
}

async function dbStatus(): Promise<DbStatus> {
  const r = await h.run(['db', 'status', DB, '-c', configFile, '--json'], env, 20_000);
  lastStatus = r.stdout || r.stderr;
  if (r.code !== 0 && r.code !== 1) throw new Error(`db status exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as DbStatus;
}

/** One writable primary holding the key; every other member a streaming replica in the synchronous set. */
function healthy(s: DbStatus, primary?: string): string | undefined {
  const [p] = s.writable;
  if (s.writable.length !== 1 || p === undefined || s.leader?.member !== p) return undefined;
  if (primary !== undefined && p !== primary) return undefined;
  const replicas = s.members.filter((m) => m.name !== p);
  const ok = replicas.every((m) => m.role === 'replica' && m.state.startsWith('streaming') && m.inSyncSet === true && m.fenced === false);
  return ok && replicas.length === NAMES.length - 1 ? p : undefined;
}

async function waitHealthy(what: string, timeoutMs: number, primary?: string): Promise<string> {
  return waitFor(async () => healthy(await dbStatus(), primary), what, timeoutMs, 200)
    .catch((err: unknown) => {
      throw new Error(`${String(err)}\nlast db status:\n${lastStatus}`);
    });
}

async function httpStatus(port: number, path: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** Which members answer 200 on /primary and on /replica. */
async function healthMatrix(): Promise<{ primary: string[]; replica: string[] }> {
  const rows = await Promise.all(members.map(async (m) => ({
    name: m.name, primary: await httpStatus(m.healthPort, '/primary'), replica: await httpStatus(m.healthPort, '/replica'),
  })));
  return { primary: rows.filter((r) => r.primary === 200).map((r) => r.name), replica: rows.filter((r) => r.replica === 200).map((r) => r.name) };
}

function member(name: string): Member {
  const found = members.find((m) => m.name === name);
  if (!found) throw new Error(`no member ${name}`);
  return found;
}

function memberByPort(port: number): string {
  return members.find((m) => m.port === port)?.name ?? `port ${port}`;
}

async function postmasterPid(m: Member): Promise<number | undefined> {
  const text = await readFile(join(m.dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Alive and not a zombie (a container's pid 1 may not reap orphans). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

async function withGateway<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ host: '127.0.0.1', port: gatewayPort, user: SUPERUSER, password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 5000, query_timeout: 10_000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Acknowledged inserts missing from the primary, read through the gateway (with where they were acknowledged, and where they are now). */
async function missing(live: readonly Ack[]): Promise<string[]> {
  // Only what was acknowledged before the SELECT starts: the writer may still be running.
  const acks = live.slice();
  const { port, present } = await withGateway(async (c) => {
    const { rows } = await c.query<{ seq: number; port: number }>('SELECT seq, inet_server_port() AS port FROM t');
    return { port: Number(rows[0]?.port), present: new Set(rows.map((r) => r.seq)) };
  });
  const lost = acks.filter((a) => !present.has(a.seq));
  if (lost.length === 0) return [];
  const seqs = lost.map((a) => a.seq);
  const where = await Promise.all(members.map(async (m) => {
    const c = new pg.Client({ host: '127.0.0.1', port: m.port, user: SUPERUSER, password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 3000, query_timeout: 5000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const { rows } = await c.query<{ seq: number }>('SELECT seq FROM t WHERE seq = ANY($1)', [seqs]);
      return `${m.name}: has [${rows.map((r) => r.seq).join(', ')}]`;
    } catch (err) {
      return `${m.name}: ${String(err)}`;
    } finally {
      await c.end().catch(() => undefined);
    }
  }));
  return lost.map((a) => `seq ${a.seq} acknowledged by ${memberByPort(a.port)} at ${a.wall}, missing on ${memberByPort(port)} (read through the gateway); directly: ${where.join('; ')}`);
}

/** The daemon's JSON log lines that match. */
function daemonLog(match: (line: Record<string, unknown>) => boolean): Array<Record<string, unknown>> {
  return (daemon?.stderr() ?? '').split('\n').flatMap((text) => {
    try {
      const line = JSON.parse(text) as Record<string, unknown>;
      return match(line) ? [line] : [];
    } catch {
      return []; // not JSON, or a line still being written
    }
  });
}

function logTail(lines = 120): string {
  return (daemon?.stderr() ?? '').trimEnd().split('\n').slice(-lines).map((l) => (l.length > 600 ? `${l.slice(0, 600)}…` : l)).join('\n');
}

beforeAll(async () => {
  const [cluster, runAs] = await Promise.all([EtcdCluster.start({ size: 3 }), runAsName()]);
  etcd = cluster;
  etcdClient = new EtcdClient({ endpoints: cluster.clientUrls(), timeoutMs: 2000 });
  dir = await mkdtemp(join(tmpdir(), 'bulwark-pg-e2e-'));
  await chmod(dir, 0o755); // the run_as user must reach its data directories
  const ports = await distinctPorts(8);
  members = NAMES.map((name, i) => ({ name, port: ports[i]!, healthPort: ports[3 + i]!, dataDir: join(dir!, name) }));
  gatewayPort = ports[6]!;
  apiPort = ports[7]!;
  configFile = join(dir, 'bulwark.yaml');
  dataDir = join(dir, 'data');
  await writeFile(configFile, yaml(cluster.clientUrls(), runAs));
});

afterAll(async () => {
  await writer?.stop().catch(() => undefined);
  // BULWARK_E2E_LOG=FILE keeps the daemon's whole log (JSON lines) for a look afterwards.
  if (process.env.BULWARK_E2E_LOG && daemon) await writeFile(process.env.BULWARK_E2E_LOG, daemon.stderr()).catch(() => undefined);
  await h.cleanup(); // SIGKILLs a daemon still running; its postmasters die with it (parent-death signal)
  for (const m of members) {
    // Only a postmaster of this test's data directory: a stale postmaster.pid may name a reused pid.
    const pid = await postmasterPid(m);
    const cmdline = pid === undefined ? '' : await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (pid !== undefined && cmdline.split('\0').includes(m.dataDir) && (await alive(pid))) process.kill(pid, 'SIGKILL');
  }
  await etcdClient?.close().catch(() => undefined);
  await etcd?.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PostgreSQL HA in `bulwark up`, end to end', () => {
  it('init, up, switchover and a SIGKILLed primary under writes through the gateway, then a clean stop', async ({ annotate, onTestFailed }) => {
    onTestFailed(() => {
      console.error(`---- daemon log tail ----\n${logTail()}\n---- last db status ----\n${lastStatus}\n---- writer errors ----\n${writer?.errors.slice(-10).join('\n') ?? ''}\n---- marks ----\n${JSON.stringify(marks)} now ${clock()}`);
    });
    const note = async (text: string): Promise<void> => {
      console.log(`[e2e] ${text}`);
      await annotate(text);
    };
    const t0 = performance.now();

    // 2. bulwark db init
    const init = await h.run(['db', 'init', DB, '-c', configFile], env, 120_000);
    expect(init.code, `${init.stdout}\n${init.stderr}`).toBe(0);
    expect(init.stdout).toMatch(/initialized, primary m1, replicas m2, m3/);
    const created = await h.run(['token', 'create', '--name', 'e2e', '--data-dir', dataDir], {}, 30_000);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    const tInit = performance.now();

    // 3. bulwark up; one writable primary, two streaming replicas in the synchronous set
    daemon = h.spawn(['up', '-c', configFile, '--data-dir', dataDir, '--log-format', 'json'], env);
    const up = daemon;
    await waitFor(async () => {
      if (up.child.exitCode !== null) throw new Error(`daemon exited with ${up.child.exitCode}`);
      const res = await fetch(`http://127.0.0.1:${apiPort}/readyz`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 'daemon /readyz', 30_000);
    const first = await waitHealthy('one primary, two streaming replicas in the sync set', 45_000);
    expect(first).toBe('m1');
    const tHealthy = performance.now();
    await note(`db init ${Math.round(tInit - t0)} ms; up → healthy cluster ${Math.round(tHealthy - tInit)} ms`);
    const matrix = await waitFor(async () => {
      const got = await healthMatrix();
      return got.primary.length === 1 && got.primary[0] === first && got.replica.length === 2 ? got : undefined;
    }, 'health endpoints: /primary on the primary only, /replica on the others', 10_000, 200).catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(await healthMatrix())}`);
    });
    expect(matrix).toEqual({ primary: [first], replica: NAMES.filter((n) => n !== first) });

    // 4. an application writing through the gateway's front door
    await waitFor(() => withGateway(async (c) => {
      await c.query('CREATE TABLE IF NOT EXISTS t (seq int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
      return true;
    }), 'CREATE TABLE through the gateway', 15_000, 200);
    const w = (writer = new GatewayWriter({ port: gatewayPort, user: SUPERUSER, password: PASSWORD }));
    w.start();
    await w.until((acks) => acks.length >= 200, 20_000, '200 acknowledged inserts through the gateway');
    expect(new Set(w.acks.map((a) => memberByPort(a.port)))).toEqual(new Set([first]));

    // 5. planned switchover to a replica
    const target = NAMES.find((n) => n !== first)!;
    marks.switchoverRequested = clock();
    const sw = await h.run(['db', 'switchover', DB, '--to', target, '-c', configFile, '--json'], env, 60_000);
    expect(sw.code, `${sw.stdout}\n${sw.stderr}`).toBe(0);
    const swJson = JSON.parse(sw.stdout) as { leader: string; elapsedMs: number; history: { kind: string; from: string; to: string; durationMs: number } | null };
    expect(swJson.leader).toBe(target);
    expect(swJson.history).toMatchObject({ kind: 'switchover', from: first, to: target });
    const swAcksBefore = w.acks.length;
    await w.until((acks) => acks.slice(swAcksBefore).filter((a) => a.port === member(target).port).length >= 50, 20_000, `50 inserts acknowledged by ${target}`);
    const firstOnTarget = w.acks.find((a) => a.port === member(target).port)!;
    const lastOnOld = [...w.acks].reverse().find((a) => a.port === member(first).port && a.at < firstOnTarget.at)!;
    const switchoverPauseMs = firstOnTarget.at - lastOnOld.at;
    expect(w.acks.filter((a) => a.at > firstOnTarget.at && a.port !== member(target).port)).toEqual([]);
    expect(await missing(w.acks)).toEqual([]);
    await waitHealthy(`${first} back as a streaming replica of ${target}`, 30_000, target);
    await note(`switchover ${first} → ${target}: CLI request → writable ${swJson.elapsedMs} ms, new leader's own measure ${swJson.history?.durationMs} ms, ` +
      `writes through the gateway paused ${Math.round(switchoverPauseMs)} ms (last ack on ${first} → first on ${target}); ${w.unknown.length} inserts unacknowledged so far`);

    // 6. SIGKILL of the primary's postmaster
    const victim = member(target);
    const pid = await postmasterPid(victim);
    expect(pid, `postmaster.pid of ${victim.name}`).toBeDefined();
    marks.killed = clock();
    const killedAt = performance.now();
    const killedWall = Date.now();
    process.kill(pid!, 'SIGKILL');
    await w.until((acks) => acks.some((a) => a.at > killedAt && a.port !== victim.port), 20_000, 'an insert acknowledged by a new primary after the kill');
    const firstNew = w.acks.find((a) => a.at > killedAt && a.port !== victim.port)!;
    const lastOld = [...w.acks].reverse().find((a) => a.port === victim.port && a.at < firstNew.at)!;
    const newPrimary = memberByPort(firstNew.port);
    const failoverMs = firstNew.at - lastOld.at;
    await note(`failover after SIGKILL of ${victim.name}: last ack on ${victim.name} → first ack on ${newPrimary} through the gateway ${Math.round(failoverMs)} ms ` +
      `(kill → first new ack ${Math.round(firstNew.at - killedAt)} ms)`);
    expect(failoverMs).toBeLessThan(10_000);
    const afterFailover = w.acks.length;
    await w.until((acks) => acks.length >= afterFailover + 100, 20_000, `100 more inserts on ${newPrimary}`);
    expect(w.acks.filter((a) => a.at > firstNew.at && a.port !== firstNew.port)).toEqual([]);
    await waitHealthy(`${victim.name} rejoined as a streaming replica of ${newPrimary}`, 30_000, newPrimary);
    const rejoinMs = performance.now() - killedAt;
    const rejoined = daemonLog((l) => l.member === victim.name && l.msg === 'rejoined as a replica' && Date.parse(String(l.time)) >= killedWall);
    // The first rejoin must work: a fenced member that pg_rewinds from the new leader while its promotion is still
    // under way gets a data directory that cannot start ("requested timeline N does not contain minimum recovery
    // point ... on timeline N-2"), and only the next loop's second rewind brings it back.
    const failedStarts = daemonLog((l) => l.member === victim.name && l.msg === 'HA loop iteration failed' && /exited during startup/.test(String(l.err)) && Date.parse(String(l.time)) >= killedWall);
    expect(rejoined, `${victim.name} logged no "rejoined as a replica"`).toHaveLength(1);
    expect(failedStarts.map((l) => `${String(l.time)} ${String(l.err)}`), `${victim.name}: rejoin attempts whose PostgreSQL exited during startup`).toEqual([]);
    await note(`${victim.name} rejoined as a streaming replica in the sync set ${Math.round(rejoinMs)} ms after the kill (polling db status); ` +
      `its log: "rejoined as a replica" ${Date.parse(String(rejoined[0]?.time)) - killedWall} ms after the kill, method ${String(rejoined[0]?.method)}, ` +
      'first attempt');
    await w.stop();
    expect(await missing(w.acks)).toEqual([]);
    await note(`${w.acks.length} inserts acknowledged, none lost; ${w.unknown.length} unacknowledged (errors during the switchover and the failover)`);

    // 7. the admin API shows the history; the metrics count the promotions
    const api = await fetch(`http://127.0.0.1:${apiPort}/api/v1/databases/${DB}`, { headers: { authorization: `Bearer ${token}` } });
    expect(api.status).toBe(200);
    const view = (await api.json()) as { leader: string; managed_here: boolean; history: Array<{ kind: string; from: string | null; to: string }> };
    expect(view).toMatchObject({ leader: newPrimary, managed_here: true });
    expect(view.history.slice(0, 2)).toEqual([
      expect.objectContaining({ kind: 'failover', from: victim.name, to: newPrimary }),
      expect.objectContaining({ kind: 'switchover', from: first, to: target }),
    ]);
    const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
    expect(metrics).toContain('bulwark_db_failovers_total');
    expect(metrics).toMatch(new RegExp(`bulwark_db_failovers_total\\{database="${DB}",kind="switchover"\\} 1\\n`));
    expect(metrics).toMatch(new RegExp(`bulwark_db_failovers_total\\{database="${DB}",kind="failover"\\} 1\\n`));

    // 8. SIGTERM: exit 0, every PostgreSQL stopped, the leader key released
    const pids = (await Promise.all(members.map(postmasterPid))).filter((p): p is number => p !== undefined);
    expect(pids).toHaveLength(3);
    const stopAt = performance.now();
    up.child.kill('SIGTERM');
    const exit = await withTimeout(up.exited, 60_000, 'daemon exit after SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    for (const p of pids) expect(await alive(p), `postmaster ${p} still alive after the daemon stopped`).toBe(false);
    for (const m of members) expect(await postmasterPid(m), `${m.name}'s postmaster.pid left behind`).toBeUndefined();
    const keys = databaseKeys(DB);
    expect((await etcdClient!.get(keys.leader)).kv, 'leader key still held').toBeUndefined();
    for (const name of NAMES) expect((await etcdClient!.get(keys.member(name))).kv, `member record of ${name} left behind`).toBeUndefined();
    await note(`SIGTERM → exit 0 in ${Math.round(performance.now() - stopAt)} ms; whole test ${Math.round(performance.now() - t0)} ms`);
  }, 180_000);
});
