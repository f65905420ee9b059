import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../../../coordination/index.js';
import { EtcdCluster } from '../../../testing/etcd-cluster.js';
import { pgCtlStart, prepareLogFile } from '../../../postgres-ha/pg-ctl.js';
import { queryRows, sqlLiteral } from '../../../postgres-ha/pg-query.js';
import { databaseKeys, PostgresMember } from '../../../postgres-ha/index.js';
import { findPostgresBinDir } from '../../../testing/postgres-server.js';
import { freePort } from '../../../testing/net.js';
import { runAsUser, type RunAs } from '../../../testing/run-as.js';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const PASSWORD = `pw-${randomBytes(10).toString('hex')}`;

interface Run { code: number | null; stdout: string; stderr: string }

function bulwark(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out: bulwark ${args.join(' ')}\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bulwark db (CLI)', () => {
  let dir: string;
  let etcdCluster: EtcdCluster;
  let etcd: EtcdClient;
  let runAs: RunAs | undefined;
  let binDir: string;
  let ports: number[];
  let config: string;

  function yaml(o: { etcd?: string | false; dataDirs?: boolean } = {}): string {
    const etcdUrl = o.etcd ?? etcdCluster.clientUrls()[0];
    const member = (name: string, i: number): string =>
      `        - { name: ${name}, host: 127.0.0.1, port: ${ports[i]}${o.dataDirs === false || name === 'm3' ? '' : `, data_dir: ${join(dir, name)}`} }`;
    return [
      ...(etcdUrl === false ? [] : ['coordination:', `  etcd: { endpoints: [${etcdUrl}] }`]),
      'databases:',
      '  main-db:',
      '    postgres:',
      '      synchronous: true',
      '      superuser: bulwark',
      `      superuser_password: ${PASSWORD}`,
      `      bin_dir: ${binDir}`,
      ...(runAs ? [`      run_as: ${userName(runAs)}`] : []),
      `      socket_dir: ${join(dir, 'sock')}`,
      '      settings: { fsync: "off" }',
      '      members:',
      ...['m1', 'm2', 'm3'].map(member),
      '',
    ].join('\n');
  }

  beforeAll(async () => {
    [etcdCluster, runAs, binDir] = await Promise.all([EtcdCluster.start({ size: 1 }), runAsUser(), findPostgresBinDir()]);
    etcd = new EtcdClient({ endpoints: etcdCluster.clientUrls() });
    dir = await mkdtemp(join(tmpdir(), 'bulwark-db-cli-'));
    await chmod(dir, 0o755);
    ports = [await freePort(), await freePort(), await freePort()];
    config = join(dir, 'bulwark.yaml');
    await writeFile(config, yaml());
  });
  afterAll(async () => {
    await etcd?.close();
    await etcdCluster?.stopAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers --help on every command, with exit codes and examples', async () => {
    for (const args of [['db'], ['db', 'status'], ['db', 'switchover'], ['db', 'failover'], ['db', 'init']]) {
      const r = await bulwark([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: bulwark db');
      if (args.length > 1) expect(r.stdout).toMatch(/Exit codes: 0[\s\S]*Examples:\n {2}bulwark db/);
    }
  });

  it('bad input exits 2 with what to do', async () => {
    const unknownDb = await bulwark(['db', 'status', 'nope', '-c', config]);
    expect(unknownDb.code).toBe(2);
    expect(unknownDb.stderr).toMatch(/bulwark.yaml has no database "nope"\n {2}hint: PostgreSQL databases: main-db/);
    const unknownMember = await bulwark(['db', 'switchover', 'main-db', '--to', 'm9', '-c', config]);
    expect(unknownMember.code).toBe(2);
    expect(unknownMember.stderr).toMatch(/--to m9: database main-db has no member "m9"\n {2}hint: members: m1, m2, m3/);
    const noTo = await bulwark(['db', 'failover', 'main-db', '-c', config]);
    expect(noTo.code).toBe(2);
    expect(noTo.stderr).toMatch(/required option '--to <member>' not specified/);
    const badTimeout = await bulwark(['db', 'switchover', 'main-db', '--timeout', 'soon', '-c', config]);
    expect(badTimeout.code).toBe(2);
    const noEtcd = join(dir, 'no-etcd.yaml');
    await writeFile(noEtcd, yaml({ etcd: false }));
    // Without etcd the switchover is carried out directly: with nothing running there is no primary.
    const switchover = await bulwark(['db', 'switchover', 'main-db', '--to', 'm2', '-c', noEtcd]);
    expect(switchover.code).toBe(1);
    expect(switchover.stdout).toContain('note: automatic failover is off (no coordination.etcd); only manual switchover is available');
    expect(switchover.stderr).toMatch(/no member of main-db accepts writes, so there is no primary to switch over from: m1 does not answer/);
    const failover = await bulwark(['db', 'failover', 'main-db', '--to', 'm2', '-c', noEtcd]);
    expect(failover.code).toBe(2);
    expect(failover.stderr).toMatch(/failover needs coordination.etcd: automatic failover is off \(no coordination.etcd\); only manual switchover is available\n {2}hint: with a primary running: `bulwark db switchover main-db --to MEMBER`/);
    const noConfig = await bulwark(['db', 'status', 'main-db']);
    expect(noConfig.code).toBe(2);
  });

  it('status with nothing running: the direct view, the etcd view, exit 1; etcd unreachable or absent is said', async () => {
    const r = await bulwark(['db', 'status', 'main-db', '-c', config, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const s = JSON.parse(r.stdout) as { coordination: string; etcd: { reachable: boolean }; leader: unknown; writable: string[]; members: Array<{ name: string; reachable: boolean; role: string }>; notes: string[] };
    expect(s).toMatchObject({ coordination: 'etcd', etcd: { reachable: true }, leader: null, writable: [] });
    expect(s.members.map((m) => [m.name, m.reachable, m.role])).toEqual([['m1', false, 'unknown'], ['m2', false, 'unknown'], ['m3', false, 'unknown']]);
    expect(s.notes).toContain('no member accepts writes');

    const unreachable = join(dir, 'etcd-down.yaml');
    await writeFile(unreachable, yaml({ etcd: `http://127.0.0.1:${await freePort()}` }));
    const down = await bulwark(['db', 'status', 'main-db', '-c', unreachable]);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/MEMBER +ADDRESS +ROLE +STATE +TL +LSN +LAG +SYNC \(recorded \/ live\)/);
    expect(down.stdout).toMatch(/^m1 +127\.0\.0\.1:\d+ +unreachable +connection refused +- +- +- +recorded - \/ live -$/m);
    expect(down.stdout).not.toContain('recorded: etcd keys');
    expect(down.stdout).toMatch(/note: etcd is unreachable \(.*\): showing only what PostgreSQL says directly/);

    const noEtcd = join(dir, 'no-etcd.yaml');
    await writeFile(noEtcd, yaml({ etcd: false }));
    const none = await bulwark(['db', 'status', 'main-db', '-c', noEtcd, '--json']);
    expect(JSON.parse(none.stdout)).toMatchObject({ coordination: 'none', etcd: null });
    expect(none.stdout).toContain('automatic failover is off (no coordination.etcd); only manual switchover is available');
  });

  it('init, then status of the running members; switchover and failover refuse what the managers could not do', async () => {
    const init = await bulwark(['db', 'init', 'main-db', '-c', config], 180_000);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/initdb m1[\s\S]*replication slots on m1: m2, m3[\s\S]*base backup of m2[\s\S]*main-db: initialized, primary m1, replicas m2; every server is stopped/);
    expect(init.stdout).toMatch(/not on this host \(no data_dir\): m3/);
    expect(init.stdout).toMatch(/next: bulwark up -c /);
    expect(JSON.parse((await etcd.get(databaseKeys('main-db').sync)).kv!.value)).toEqual({ leader: 'm1', members: ['m1'] });
    const again = await bulwark(['db', 'init', 'main-db', '-c', config]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/m1's data_dir .* is not empty\n {2}hint: .*--adopt/);

    const pgs = ['m1', 'm2'].map((name, i) => new PostgresMember({
      name, binDir, dataDir: join(dir, name), socketDir: join(dir, 'sock'), host: '127.0.0.1', port: ports[i]!, user: 'bulwark', password: PASSWORD, runAs,
    }));
    try {
      for (const pg of pgs) await pg.start();
      const r = await bulwark(['db', 'status', 'main-db', '-c', config, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const s = JSON.parse(r.stdout) as { writable: string[]; sync: unknown; members: Array<{ name: string; role: string; timeline: number | null; lagBytes: number | null; inSyncSet: boolean | null }>; notes: string[] };
      expect(s.writable).toEqual(['m1']);
      expect(s.sync).toEqual({ leader: 'm1', members: ['m1'] });
      expect(s.members.map((m) => [m.name, m.role, m.timeline, m.inSyncSet])).toEqual([['m1', 'primary', 1, true], ['m2', 'replica', 1, false], ['m3', 'unknown', null, false]]);
      expect(s.members[1]?.lagBytes).toBeGreaterThanOrEqual(0);
      expect(s.notes).toContain('nobody holds the leader key');
      const text = await bulwark(['db', 'status', 'main-db', '-c', config]);
      expect(text.stdout).toMatch(/m1 +127\.0\.0\.1:\d+ +primary +read-write +1/);
      expect(text.stdout).toMatch(/m2 +127\.0\.0\.1:\d+ +replica +streaming from m1 +1/);
      expect(text.stdout).toMatch(/^synchronous set: \[m1\] \(recorded by m1, rev \d+\)$/m);
      expect(text.stdout).toMatch(/^m3 +no record \(no manager publishes it/m);

      const switchover = await bulwark(['db', 'switchover', 'main-db', '--to', 'm2', '-c', config]);
      expect(switchover.code).toBe(1);
      expect(switchover.stderr).toMatch(/main-db has no leader: there is no primary to hand over from\n {2}hint: .*bulwark db failover main-db --to MEMBER/);
      const failover = await bulwark(['db', 'failover', 'main-db', '--to', 'm2', '-c', config]);
      expect(failover.code).toBe(1);
      expect(failover.stderr).toMatch(/m2 publishes no member record: its manager is not running/);
      for (const out of [r, text, switchover, failover, init]) expect(out.stdout + out.stderr).not.toContain(PASSWORD);
    } finally {
      for (const pg of pgs.reverse()) await pg.stop();
    }
    expect(await readdir(join(dir, 'm1'))).toContain('PG_VERSION');
  }, 240_000);

  it('without etcd: switchover to m2 and back on servers started with pg_ctl', async () => {
    // The data directories `db init` made above; m3 (no data_dir) is not running.
    const noEtcd = join(dir, 'no-etcd.yaml');
    await writeFile(noEtcd, yaml({ etcd: false }));
    const ctl = { database: 'main-db', binDir, socketDir: join(dir, 'sock'), runAs };
    const local = ['m1', 'm2'].map((name, i) => ({ name, port: ports[i]!, dataDir: join(dir, name) }));
    for (const m of local) await pgCtlStart(ctl, m, await prepareLogFile(ctl, m));
    try {
      const r = await bulwark(['db', 'switchover', 'main-db', '--to', 'm2', '-c', noEtcd, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out).toMatchObject({
        database: 'main-db', kind: 'switchover', coordination: 'none', from: 'm1', leader: 'm2', history: null, timeline: 2,
        oldPrimaryStreaming: true, streaming: ['m1'], synchronousStandbyNames: 'ANY 1 ("m1", "m3")', logFile: `${join(dir, 'm1')}.log`,
        notes: ['automatic failover is off (no coordination.etcd); only manual switchover is available'],
      });
      expect(out.writePauseMs).toBeGreaterThan(0);
      expect(out.elapsedMs).toBeGreaterThanOrEqual(out.writePauseMs as number);
      expect(out.warnings).toEqual([expect.stringMatching(/^m3 did not answer \(.*\): it was not re-pointed; set its primary_conninfo to m2/)]);

      const status = await bulwark(['db', 'status', 'main-db', '-c', noEtcd, '--json']);
      expect((JSON.parse(status.stdout) as { writable: string[] }).writable).toEqual(['m2']);

      const back = await bulwark(['db', 'switchover', 'main-db', '-c', noEtcd]);
      expect(back.code, back.stderr).toBe(0);
      expect(back.stdout).toMatch(/^note: automatic failover is off \(no coordination.etcd\); only manual switchover is available: bulwark carries it out itself\n/);
      expect(back.stdout).toMatch(/ {2}m2 is the primary \(timeline 2, [^)]*\); m1 streams from it; m3 does not answer/);
      expect(back.stdout).toMatch(/new primary: m1, accepting writes; writes paused \d+\.\d\d s \(m2 stopped → m1 writable\), \d+\.\d\d s in all\nm2 is m1's standby \(server log .*m2\.log\)/);
      expect(back.stderr).toMatch(/warning: m3 did not answer/);
      for (const o of [r, back, status]) expect(o.stdout + o.stderr).not.toContain(PASSWORD);
    } finally {
      for (const m of local) await execFileAsync(join(binDir, 'pg_ctl'), ['stop', '-D', m.dataDir, '-m', 'fast', '-w'], { ...runAs }).catch(() => undefined);
    }
  }, 120_000);

  it('status tells live from recorded: a SIGKILLed postmaster is unreachable (not 0/0), synchronous_standby_names changed by hand is a mismatch', async () => {
    // The data directories of the tests above (m1 primary, m2 its standby). No member manager runs here,
    // so the hand-made change below stays as it is, and the records are written as a manager would.
    const keys = databaseKeys('main-db');
    const [m1, m2] = ['m1', 'm2'].map((name, i) => new PostgresMember({
      name, binDir, dataDir: join(dir, name), socketDir: join(dir, 'sock'), host: '127.0.0.1', port: ports[i]!, user: 'bulwark', password: PASSWORD, runAs,
    })) as [PostgresMember, PostgresMember];
    const syncState = async (): Promise<string | undefined> =>
      (await queryRows<{ s: string }>(m1.endpoint, "SELECT sync_state AS s FROM pg_stat_replication WHERE application_name = 'm2' AND state = 'streaming'"))[0]?.s;
    const setStandbyNames = async (value: string, expected: string): Promise<void> => {
      await queryRows(m1.endpoint, `ALTER SYSTEM SET synchronous_standby_names = ${sqlLiteral(value)}`);
      await queryRows(m1.endpoint, 'SELECT pg_reload_conf()');
      await until(async () => (await syncState()) === expected, `m2's sync_state on m1 to become ${expected}`);
    };
    const status = async (): Promise<{ json: DbStatusJson; text: string }> => {
      const [j, t] = [await bulwark(['db', 'status', 'main-db', '-c', config, '--json']), await bulwark(['db', 'status', 'main-db', '-c', config])];
      expect(j.code, j.stderr).toBe(0);
      for (const out of [j, t]) expect(out.stdout + out.stderr).not.toContain(PASSWORD);
      return { json: JSON.parse(j.stdout) as DbStatusJson, text: t.stdout };
    };
    try {
      await m1.start();
      await m2.start();
      await until(async () => (await syncState()) !== undefined, 'm2 streaming from m1');
      await etcd.put(keys.leader, 'm1');
      await etcd.put(keys.sync, JSON.stringify({ leader: 'm1', members: ['m2', 'm3'] }));
      const published = (o: object): string =>
        JSON.stringify({ role: 'replica', timeline: 1, lsn: '0/3000000', fenced: false, host: '127.0.0.1', port: 0, at: new Date().toISOString(), ...o });
      await etcd.put(keys.member('m1'), published({ role: 'primary', state: 'primary holding the leader lease' }));
      await etcd.put(keys.member('m2'), published({ following: 'm1' }));

      await setStandbyNames('ANY 1 ("m2", "m3")', 'quorum');
      const agreed = await status();
      expect(agreed.json.mismatches).toEqual([]);
      expect(agreed.json.replication).toEqual([expect.objectContaining({ primary: 'm1', leader: true, synchronousStandbyNames: 'ANY 1 ("m2", "m3")', synchronousStandbys: ['m2', 'm3'] })]);
      expect(agreed.json.members[1]).toMatchObject({
        name: 'm2', reachable: true, role: 'replica', state: 'streaming from m1', inSyncSet: true, syncMismatch: false,
        replication: { primary: 'm1', user: expect.any(String) as unknown, state: 'streaming', syncState: 'quorum' }, sources: { role: 'live', lsn: 'live', fenced: 'recorded', syncState: 'live' },
      });
      expect(agreed.json.members[1]?.recordAgeMs).toBeGreaterThanOrEqual(0);
      expect(agreed.text).toMatch(/^m2 +127\.0\.0\.1:\d+ +replica +streaming from m1 +\d+ +\S+ +[\d.]+ \w*B +recorded yes \/ live quorum$/m);
      expect(agreed.text).toMatch(/^m1's replication \(live\): synchronous_standby_names = 'ANY 1 \("m2", "m3"\)'\n {2}m2: streaming, sync_state quorum, user \w+$/m);
      expect(agreed.text).not.toContain('MISMATCH');

      // Behind the leader's back: both the standby's live state and the setting contradict the sync key.
      await setStandbyNames('', 'async');
      const drifted = await status();
      expect(drifted.json.members[1]).toMatchObject({ inSyncSet: true, syncMismatch: true, replication: { syncState: 'async' } });
      expect(drifted.json.mismatches.map((m) => [m.member, m.fact, m.recorded, m.live])).toEqual([['m2', 'sync', 'yes', 'async'], ['m1', 'synchronous_standby_names', '[m2, m3]', '']]);
      expect(drifted.text).toMatch(/^m2 +127\.0\.0\.1:\d+ +replica .*recorded yes \/ live async {2}← mismatch$/m);
      expect(drifted.text).toContain("MISMATCH m1's synchronous_standby_names is '': commits are acknowledged without waiting for any standby, while the recorded synchronous set is [m2, m3]");

      // m2's postmaster SIGKILLed; its manager would then publish what it could read: nothing (role unknown, 0/0).
      await m2.kill('SIGKILL');
      await etcd.put(keys.member('m2'), published({ role: 'unknown', timeline: 0, lsn: '0/0', fenced: true, lagBytes: 72_250_000, state: 'postgres is not running' }));
      const down = await status();
      expect(down.json.members[1]).toMatchObject({
        name: 'm2', reachable: false, role: 'unknown', state: 'unreachable', reason: 'connection refused', timeline: null, lsn: null, lagBytes: null,
        fenced: true, replication: null, sources: { role: null, lsn: null, lagBytes: null, fenced: 'recorded' },
      });
      const liveTable = down.text.slice(0, down.text.indexOf('recorded:'));
      expect(liveTable).toMatch(/^m2 +127\.0\.0\.1:\d+ +unreachable +connection refused +- +- +- +recorded yes \/ live not connected$/m);
      expect(liveTable).not.toContain('0/0');
      expect(liveTable).not.toContain('MiB');
      expect(down.text).toMatch(/^m2 +unknown +FENCED +- +- +- +- +rev \d+, \d+\.\d s old +postgres is not running$/m);
      expect(down.text).not.toMatch(/\b0\/0\b/);
    } finally {
      await m2.kill('SIGKILL');
      await m1.stop();
      for (const key of [keys.leader, keys.sync, keys.member('m1'), keys.member('m2')]) await etcd.delete(key);
    }
  }, 120_000);
});

interface DbStatusJson {
  mismatches: Array<{ member: string; fact: string; recorded: string; live: string }>;
  replication: unknown[];
  members: Array<Record<string, unknown>>;
}

/** Polls `check` every 100 ms: PostgreSQL announces neither a reload taking effect nor a standby connecting. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** runAsUser() picks `postgres` or `nobody`: the configuration names it by user name. */
function userName(runAs: RunAs): string {
  return execFileSync('id', ['-nu', String(runAs.uid)], { encoding: 'utf8' }).trim();
}
