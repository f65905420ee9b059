import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import { findPostgresBinDir } from './bin-dir.js';
import { freePort } from '../testing/net.js';
import { runAsUser, type RunAs } from '../testing/run-as.js';
import { bootstrap } from './bootstrap.js';
import { isWritable, probeMember } from './control.js';
import { localSwitchover, type LocalSwitchoverMember, type LocalSwitchoverOptions } from './local-switchover.js';
import { pgCtlStart, prepareLogFile } from './pg-ctl.js';
import { queryRows, sqlLiteral, type PgEndpoint } from './pg-query.js';
import { FailoverWriter } from './testing/failover-writer.js';

const execFileAsync = promisify(execFile);
const USER = 'bulwark';
const DATABASE = 'lsw';

async function rejection(promise: Promise<unknown>): Promise<BulwarkError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof BulwarkError)) throw new Error(`expected a BulwarkError, got ${String(err)}`);
  return err;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('switchover without etcd, on servers started with pg_ctl (real PostgreSQL)', () => {
  let dir: string;
  let binDir: string;
  let runAs: RunAs | undefined;
  let members: Array<LocalSwitchoverMember & { dataDir: string }>;
  let socketDir: string;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  let m3Conninfo = '';

  const endpoint = (name: string): PgEndpoint => {
    const m = members.find((x) => x.name === name)!;
    return { host: m.host, port: m.port, user: USER, password };
  };
  const options = (overrides: Partial<LocalSwitchoverOptions> = {}): LocalSwitchoverOptions => ({
    database: DATABASE, members, binDir, socketDir, runAs, superuser: USER, password, synchronousMode: true, ...overrides,
  });
  const streamingFrom = async (name: string): Promise<string[]> =>
    (await queryRows<{ n: string }>(endpoint(name), "SELECT application_name AS n FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")).map((r) => r.n);
  const writable = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const m of members) if (await isWritable(endpoint(m.name))) out.push(m.name);
    return out;
  };

  beforeAll(async () => {
    [binDir, runAs] = await Promise.all([findPostgresBinDir(), runAsUser()]);
    dir = await mkdtemp(join(tmpdir(), 'bulwark-local-switchover-'));
    await chmod(dir, 0o755);
    socketDir = join(dir, 'sock');
    members = await Promise.all(['m1', 'm2', 'm3'].map(async (name) => ({ name, host: '127.0.0.1', port: await freePort(), dataDir: join(dir, name) })));
    // `bulwark db init` without etcd: m1 initdb'd, m2 and m3 base-backed-up, all stopped.
    await bootstrap({ database: DATABASE, members, binDir, socketDir, runAs, superuser: USER, password, settings: { fsync: 'off' }, timeoutMs: 60_000 });
    // Then started by hand with pg_ctl, as the operator does without etcd: not children of this process.
    for (const m of members) await pgCtlStart(options(), m, await prepareLogFile(options(), m));
    await queryRows(endpoint('m1'), 'CREATE TABLE t (seq int PRIMARY KEY)');
    await until('m2 and m3 stream from m1', async () => (await streamingFrom('m1')).join() === 'm2,m3');
  }, 180_000);

  afterAll(async () => {
    for (const m of members ?? []) {
      await execFileAsync(join(binDir, 'pg_ctl'), ['stop', '-D', m.dataDir, '-m', 'immediate', '-w'], { ...runAs }).catch(() => undefined);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('under write load: m1 → m2, no acknowledged insert lost, m1 and m3 stream from m2, the pause measured', async ({ annotate }) => {
    const writer = new FailoverWriter(members.map((m) => ({ name: m.name, endpoint: endpoint(m.name) })));
    writer.start();
    try {
      await writer.until((acks) => acks.length >= 200, 20_000);
      const steps: string[] = [];
      const result = await localSwitchover(options({ to: 'm2', onStep: (s) => steps.push(s) }));
      await writer.until((acks) => acks.filter((a) => a.member === 'm2').length >= 200, 20_000);
      await writer.stop();

      const lastOld = [...writer.acks].reverse().find((a) => a.member === 'm1')!;
      const firstNew = writer.acks.find((a) => a.member === 'm2')!;
      await annotate(`write pause ${Math.round(result.writePauseMs)} ms (m1 stop → m2 writable), total ${Math.round(result.totalMs)} ms; `
        + `writer: last ack on m1 → first ack on m2 ${Math.round(firstNew.at - lastOld.at)} ms; ${writer.acks.length} acks, ${writer.unknown.length} unacknowledged\n${steps.join('\n')}`);
      expect(writer.acks.every((a) => a.member === 'm1' || a.member === 'm2')).toBe(true);
      expect(result).toMatchObject({
        database: DATABASE, from: 'm1', to: 'm2', timeline: 2, oldPrimaryStreaming: true, repointed: ['m3'],
        synchronousStandbyNames: 'ANY 1 ("m1", "m3")', warnings: [], steps,
      });
      expect(result.streaming).toEqual(['m1', 'm3']);
      expect(result.writePauseMs).toBeGreaterThan(0);
      expect(result.writePauseMs).toBeLessThan(result.totalMs);
      expect(result.writePauseMs).toBeLessThan(10_000);
      // The writer saw no longer a pause than the one measured, plus its own reconnection.
      expect(firstNew.at - lastOld.at).toBeLessThan(result.writePauseMs + 2000);
      expect(steps.join('\n')).toMatch(/m1 is the primary \(timeline 1, .*\); m2 streams from it; m3 is a replica \(streaming from 127\.0\.0\.1:\d+\)\n.*slots on m2 for m1, m3 \(created m1, m3 while it is still a standby\)\nstopped m1 \(pg_ctl stop -m fast\): shutdown checkpoint \S+\nm2 received past it[\s\S]*promoted m2[\s\S]*re-pointed m3 to m2[\s\S]*m1: standby.signal, primary_conninfo → m2, slot m1; started with pg_ctl[\s\S]*m1, m3 stream from m2\nsynchronous_standby_names on m2: ANY 1 \("m1", "m3"\)\ndropped m1's old slots m2, m3/);

      // Nothing acknowledged is missing on the new primary, nor (synchronous mode) on its standbys once they replay.
      const acked = writer.acks.map((a) => a.seq);
      const missing = async (name: string): Promise<number[]> => {
        const present = new Set((await queryRows<{ seq: number }>(endpoint(name), 'SELECT seq FROM t', [], { timeoutMs: 5000 })).map((r) => r.seq));
        return acked.filter((s) => !present.has(s));
      };
      expect(await missing('m2')).toEqual([]);
      await until('m1 and m3 replayed every acknowledged insert', async () => (await missing('m1')).length === 0 && (await missing('m3')).length === 0);

      expect(await writable()).toEqual(['m2']);
      const m1 = await probeMember({ name: 'm1', endpoint: endpoint('m1') });
      expect(m1).toMatchObject({ reachable: true, role: 'replica', receiver: 'streaming', timeline: 2 });
      expect(await exists(join(members[0]!.dataDir, 'standby.signal'))).toBe(true);
      expect(await readFile(join(members[0]!.dataDir, 'postgresql.auto.conf'), 'utf8')).toMatch(new RegExp(`primary_conninfo = '.*port=${members[1]!.port}.*application_name=''m1'''\\nprimary_slot_name = 'm1'`));
      expect(result.logFile).toBe(`${members[0]!.dataDir}.log`);
      expect(await readFile(result.logFile, 'utf8')).toMatch(/database system is ready to accept read-only connections/);
      // m2's slots for the others, m1's old ones gone.
      expect((await queryRows<{ n: string }>(endpoint('m2'), 'SELECT slot_name::text AS n FROM pg_replication_slots ORDER BY 1')).map((r) => r.n)).toEqual(['m1', 'm3']);
      expect(await queryRows(endpoint('m1'), 'SELECT 1 FROM pg_replication_slots')).toEqual([]);
      expect(await queryRows(endpoint('m2'), "SELECT current_setting('synchronous_standby_names') AS v")).toEqual([{ v: 'ANY 1 ("m1", "m3")' }]);
      // A synchronous commit on the new primary is acknowledged: one of its standbys confirms it.
      await queryRows(endpoint('m2'), 'INSERT INTO t (seq) VALUES (-1)', [], { timeoutMs: 5000 });
    } finally {
      await writer.stop();
    }
  }, 120_000);

  it('and back, m2 → m1, picking the best streaming standby when --to is left out', async ({ annotate }) => {
    // m3 is as far as m1; the name breaks the tie. Both stream from m2.
    const result = await localSwitchover(options());
    await annotate(`switchback: write pause ${Math.round(result.writePauseMs)} ms, total ${Math.round(result.totalMs)} ms (no writes running)`);
    expect(result).toMatchObject({ from: 'm2', to: 'm1', timeline: 3, oldPrimaryStreaming: true, repointed: ['m3'], warnings: [] });
    expect(await writable()).toEqual(['m1']);
    expect(await streamingFrom('m1')).toEqual(['m2', 'm3']);
  }, 120_000);

  it('refuses a target that is not streaming, the primary itself and an unknown member, changing nothing', async () => {
    expect((await rejection(localSwitchover(options({ to: 'm1' })))).message).toBe(`m1 is already the primary of ${DATABASE}`);
    expect((await rejection(localSwitchover(options({ to: 'm9' })))).code).toBe('USAGE');
    // m3 stays in recovery but stops streaming: no upstream.
    const [saved] = await queryRows<{ v: string }>(endpoint('m3'), "SELECT current_setting('primary_conninfo') AS v");
    m3Conninfo = saved!.v;
    await queryRows(endpoint('m3'), "ALTER SYSTEM SET primary_conninfo = ''");
    await queryRows(endpoint('m3'), 'SELECT pg_reload_conf()');
    await until('m3 no longer connected to m1', async () =>
      (await queryRows(endpoint('m1'), "SELECT 1 FROM pg_stat_replication WHERE application_name = 'm3'")).length === 0);
    const err = await rejection(localSwitchover(options({ to: 'm3' })));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/^cannot switch over to m3: it is not a streaming standby of m1 \(its pg_stat_replication shows m2 streaming; m3 is a replica \(not streaming\)\)$/);
    expect(await writable()).toEqual(['m1']);
    expect(await streamingFrom('m1')).toEqual(['m2']);
    expect(await exists(join(socketDir, `.bulwark-switchover-${DATABASE}.lock`))).toBe(false);
  }, 60_000);

  it('aborts when the target does not receive the shutdown checkpoint in time: the old primary is a primary again', async () => {
    // m3 streams again, then its WAL receiver is frozen: the shutdown checkpoint cannot reach it.
    await queryRows(endpoint('m3'), `ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(m3Conninfo)}`);
    await queryRows(endpoint('m3'), 'SELECT pg_reload_conf()');
    await until('m3 streams from m1 again', async () => (await streamingFrom('m1')).includes('m3'));
    const [receiver] = await queryRows<{ pid: number }>(endpoint('m3'), 'SELECT pid FROM pg_stat_wal_receiver');
    process.kill(receiver!.pid, 'SIGSTOP');
    let err: BulwarkError;
    try {
      err = await rejection(localSwitchover(options({ to: 'm3', catchUpTimeoutMs: 1000 })));
    } finally {
      process.kill(receiver!.pid, 'SIGCONT');
    }
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(err.message).toMatch(/^switchover of lsw aborted: m3 did not receive m1's last WAL \(shutdown checkpoint \S+\) within 1 s \(it has \S+\)\. m1 was started again as the primary and accepts writes: nothing was lost and nothing changed$/);
    expect(await writable()).toEqual(['m1']);
    expect(await exists(join(members[0]!.dataDir, 'standby.signal'))).toBe(false);
    // The slots made on m3 for the attempt are gone; m3 catches up again and streams.
    expect(await queryRows(endpoint('m3'), 'SELECT 1 FROM pg_replication_slots')).toEqual([]);
    await until('m3 streams from m1 after the abort', async () => (await streamingFrom('m1')).join() === 'm2,m3', 30_000);
    await queryRows(endpoint('m1'), 'INSERT INTO t (seq) VALUES (-2)', [], { timeoutMs: 5000 });
  }, 90_000);

  it('refuses two writable members, saying what it saw', async () => {
    await queryRows(endpoint('m3'), 'SELECT pg_promote(true, 30)', [], { timeoutMs: 35_000 });
    const err = await rejection(localSwitchover(options({ to: 'm2' })));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe(`2 members of ${DATABASE} accept writes (m1, m3): refusing to pick one: m1 accepts writes; m2 is a replica (streaming from 127.0.0.1:${members[0]!.port}); m3 accepts writes`);
    expect(await writable()).toEqual(['m1', 'm3']);
  }, 60_000);
});
