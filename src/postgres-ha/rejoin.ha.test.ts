/**
 * Real processes (3 etcd, 3 PostgreSQL 15, 3 MemberManagers): an old primary rejoining
 * through pg_rewind or a fresh base backup, a hand-started old primary that stays
 * read-only, planned switchover and manual failover. Synchronous mode, TTL 10 s, loop 1 s.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseKeys, REQUEST_TTL_SECONDS, type FailoverRequest, type HistoryEntry, type SwitchoverRequest } from './keys.js';
import { queryRows } from './pg-query.js';
import { FailoverWriter } from './testing/failover-writer.js';
import { HaCluster, waitUntil, waitUntilAsync } from './testing/ha-cluster.js';

const execFileAsync = promisify(execFile);
const keys = databaseKeys('main-db');

let cluster: HaCluster | undefined;
let writer: FailoverWriter | undefined;

afterEach(async (ctx) => {
  await writer?.stop();
  if (process.env.HA_LOG_DIR && cluster) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(process.env.HA_LOG_DIR, `${ctx.task.name.slice(0, 30).replace(/\W+/g, '_')}.log`), cluster.log.lines.map((l) => JSON.stringify(l)).join('\n'));
  }
  if (ctx.task.result?.state === 'fail' && cluster) {
    const tail = cluster.log.lines.slice(-80).map((l) => JSON.stringify(l)).join('\n');
    ctx.task.result.errors?.push({ name: 'log', message: tail } as never);
  }
  await cluster?.stop();
  cluster = undefined;
  writer = undefined;
});

async function request(c: HaCluster, key: string, value: SwitchoverRequest | FailoverRequest): Promise<void> {
  const lease = await c.etcdClient.grantLease(REQUEST_TTL_SECONDS);
  const result = await c.etcdClient.createIfAbsent(key, JSON.stringify(value), lease.id);
  expect(result.succeeded).toBe(true);
}

/** Waits for a leader other than `not`, and returns it. */
async function newLeader(c: HaCluster, not: string, timeoutMs: number): Promise<string> {
  let found: string | undefined;
  await waitUntilAsync(async () => {
    const leader = await c.leader();
    found = leader !== undefined && leader !== not ? leader : undefined;
    return found !== undefined;
  }, timeoutMs, `a leader other than ${not}`);
  return found ?? '';
}

async function history(c: HaCluster): Promise<HistoryEntry[]> {
  const kv = (await c.etcdClient.get(keys.history)).kv;
  return kv ? (JSON.parse(kv.value) as HistoryEntry[]) : [];
}

/** Longest gap between consecutive acknowledgements: the write pause a client saw. */
function longestPause(acks: readonly { at: number }[]): number {
  let worst = 0;
  for (let i = 1; i < acks.length; i++) worst = Math.max(worst, (acks[i]?.at ?? 0) - (acks[i - 1]?.at ?? 0));
  return worst;
}

describe('rejoin, switchover and manual failover on real processes', () => {
  it('a killed primary rejoins through pg_rewind as a replica of the new one, with every acknowledged commit', async ({ annotate }) => {
    const c = (cluster = await HaCluster.start());
    const m1 = c.member('m1');
    const rejoined = new Promise<{ method: string; durationMs: number; detail: string }>((resolve) => m1.manager.once('rejoined', resolve));
    const w = (writer = new FailoverWriter(c.targets()));
    w.start();
    await w.until((acks) => acks.length >= 200, 15_000);
    await m1.pg.kill('SIGKILL');
    await w.until((acks) => acks.some((a) => a.member !== 'm1'), 20_000);
    const leader = await newLeader(c, 'm1', 5000);
    const info = await rejoined;
    await annotate(`m1 rejoined ${leader} by ${info.method} in ${info.durationMs} ms (${info.detail})`);
    expect(info.method).toBe('pg_rewind');
    await waitUntilAsync(() => c.streamingFrom('m1', leader), 20_000, `m1 streaming from ${leader}`);
    expect(await c.writable()).toEqual([leader]);
    expect(m1.manager.isFenced).toBe(false);
    // The new primary takes m1 into its synchronous set again.
    await waitUntilAsync(async () => (await c.syncRecord())?.members.includes('m1') ?? false, 20_000, 'm1 back in the synchronous set');
    await w.stop();
    const acked = w.acks.map((a) => a.seq);
    expect(await c.missingSeqs(leader, acked)).toEqual([]);
    await waitUntilAsync(async () => (await c.missingSeqs('m1', acked)).length === 0, 10_000, 'm1 to replay every acknowledged insert');
    const last = (await history(c)).at(-1);
    expect(last).toMatchObject({ kind: 'failover', to: leader, from: 'm1' });
  });

  it('when pg_rewind fails, the old primary rejoins through a fresh base backup', async ({ annotate }) => {
    const c = (cluster = await HaCluster.start());
    const m1 = c.member('m1');
    const rejoined = new Promise<{ method: string; durationMs: number; detail: string }>((resolve) => m1.manager.once('rejoined', resolve));
    await queryRows(m1.pg.endpoint, 'INSERT INTO t (seq) SELECT g FROM generate_series(1, 1000) g');
    await m1.pg.kill('SIGKILL');
    // Without its control file the directory cannot be rewound (nor started).
    await rm(join(c.dir, 'm1', 'global', 'pg_control'));
    const leader = await newLeader(c, 'm1', 20_000);
    const info = await rejoined;
    await annotate(`m1 rejoined ${leader} by ${info.method} in ${info.durationMs} ms`);
    expect(info.method).toBe('basebackup');
    await waitUntilAsync(() => c.streamingFrom('m1', leader), 20_000, `m1 streaming from ${leader}`);
    expect(await c.missingSeqs('m1', Array.from({ length: 1000 }, (_, i) => i + 1))).toEqual([]);
    expect(await c.writable()).toEqual([leader]);
    expect(c.log.lines.some((l) => l.msg === 'pg_rewind failed; taking a fresh base backup instead')).toBe(true);
  });

  it('an old primary started by hand comes up read-only', async () => {
    const c = (cluster = await HaCluster.start());
    const m1 = c.member('m1');
    await m1.pg.kill('SIGKILL');
    await m1.manager.stop();
    const leader = await newLeader(c, 'm1', 25_000);
    await waitUntilAsync(async () => (await c.writable()).length === 1, 10_000, 'the new primary writable');
    // What an operator would do: start the old primary's directory with pg_ctl.
    const ctl = join(m1.pg.binDir, 'pg_ctl');
    const args = ['start', '-w', '-D', join(c.dir, 'm1'), '-o', `-p ${m1.pg.endpoint.port} -k ${join(c.dir, 'sock')}`, '-l', join(c.dir, 'm1-by-hand.log')];
    await execFileAsync(ctl, args, c.runAs ? { uid: c.runAs.uid, gid: c.runAs.gid } : {});
    try {
      const rows = await queryRows<{ r: boolean }>(m1.pg.endpoint, 'SELECT pg_is_in_recovery() AS r');
      expect(rows[0]?.r).toBe(true);
      await expect(queryRows(m1.pg.endpoint, 'INSERT INTO t (seq) VALUES (-1)')).rejects.toThrow(/read-only/);
      expect(await c.writable()).toEqual([leader]);
    } finally {
      await execFileAsync(ctl, ['stop', '-m', 'immediate', '-D', join(c.dir, 'm1')], c.runAs ? { uid: c.runAs.uid, gid: c.runAs.gid } : {}).catch(() => undefined);
    }
  });

  it('planned switchover to a named member under write load: no acknowledged commit lost, a short write pause', async ({ annotate }) => {
    const c = (cluster = await HaCluster.start());
    const w = (writer = new FailoverWriter(c.targets()));
    w.start();
    await w.until((acks) => acks.length >= 200, 15_000);
    const handover = new Promise<{ ok: boolean; pauseMs: number; detail: string }>((resolve) => c.member('m1').manager.once('handover', resolve));
    const requested = performance.now();
    await request(c, keys.switchover, { from: 'm1', to: 'm3', requestedAt: new Date().toISOString() });
    await w.until((acks) => acks.some((a) => a.member === 'm3'), 20_000);
    const done = await handover;
    expect(done.ok).toBe(true);
    const firstNew = w.acks.find((a) => a.member === 'm3');
    const lastOld = [...w.acks].reverse().find((a) => a.member === 'm1');
    const pause = (firstNew?.at ?? 0) - (lastOld?.at ?? 0);
    await w.until((acks) => (acks.at(-1)?.seq ?? 0) >= (firstNew?.seq ?? 0) + 100, 15_000);
    await w.stop();
    await annotate(`switchover m1 -> m3: write pause ${Math.round(pause)} ms (longest gap ${Math.round(longestPause(w.acks))} ms), request -> first m3 ack ${Math.round((firstNew?.at ?? 0) - requested)} ms`);
    expect(pause).toBeLessThan(3000);
    expect(await c.leader()).toBe('m3');
    expect(await c.missingSeqs('m3', w.acks.map((a) => a.seq))).toEqual([]);
    expect(w.acks.filter((a) => a.member !== 'm1' && a.member !== 'm3')).toEqual([]);
    // The old primary is m3's replica (no rewind needed: it stopped cleanly), and the request is gone.
    await waitUntilAsync(() => c.streamingFrom('m1', 'm3'), 20_000, 'm1 streaming from m3');
    await waitUntilAsync(async () => (await c.etcdClient.get(keys.switchover)).kv === undefined, 5000, 'the request cleared');
    expect((await history(c)).at(-1)).toMatchObject({ kind: 'switchover', from: 'm1', to: 'm3' });
    expect(c.member('m1').manager.isFenced).toBe(false);
  });

  it('switchover to a member that is not a streaming standby is refused and the primary stays', async () => {
    const c = (cluster = await HaCluster.start());
    const refused = new Promise<{ ok: boolean; detail: string }>((resolve) => c.member('m1').manager.once('handover', resolve));
    await request(c, keys.switchover, { from: 'm1', to: 'nope', requestedAt: new Date().toISOString() });
    const result = await refused;
    expect(result).toMatchObject({ ok: false, detail: 'nope is not a streaming standby of m1' });
    await waitUntilAsync(async () => (await c.etcdClient.get(keys.switchover)).kv === undefined, 5000, 'the request cleared');
    expect(await c.leader()).toBe('m1');
    expect(await c.writable()).toEqual(['m1']);
  });

  it('manual failover with --allow-data-loss when the primary and a synchronous standby are gone', async ({ annotate }) => {
    const c = (cluster = await HaCluster.start());
    await queryRows(c.member('m1').pg.endpoint, 'INSERT INTO t (seq) VALUES (1)');
    // m3 leaves for good; the primary then dies. m2 cannot know whether m3 held commits it lacks.
    await c.member('m3').manager.stop();
    await c.member('m3').pg.kill('SIGKILL');
    // The primary's host is gone too (its manager would otherwise restart it in place: it holds every commit).
    await c.member('m1').pg.kill('SIGKILL');
    await c.member('m1').manager.stop();
    await waitUntilAsync(async () => (await c.leader()) === undefined, 25_000, 'the leader key to go');
    const waitingSince = performance.now();
    await new Promise((r) => setTimeout(r, 3000));
    expect(await c.writable()).toEqual([]);
    expect(await c.leader()).toBeUndefined();
    expect(c.log.lines.some((l) => l.member === 'm2' && String(l.reason ?? '').includes('not visible'))).toBe(true);

    const promoted = new Promise<HistoryEntry>((resolve) => c.member('m2').manager.once('history', resolve));
    await request(c, keys.failover, { to: 'm2', allowDataLoss: true, requestedAt: new Date().toISOString() });
    const entry = await promoted;
    await annotate(`no automatic promotion for ${Math.round(performance.now() - waitingSince)} ms; manual failover to m2 took ${entry.durationMs} ms after the key went`);
    expect(entry.kind).toBe('manual-failover');
    await waitUntil(() => c.member('m2').manager.lease.isLeader, 5000, 'm2 leader');
    expect(await c.writable()).toEqual(['m2']);
    expect(await c.missingSeqs('m2', [1])).toEqual([]);
  });

  it('a crashed last primary that nobody can replace restarts in place after a TTL, with every acknowledged commit', async ({ annotate }) => {
    const c = (cluster = await HaCluster.start());
    // Both standbys go: the primary continues asynchronously and records an empty set.
    for (const name of ['m2', 'm3']) {
      await c.member(name).manager.stop();
      await c.member(name).pg.kill('SIGKILL');
    }
    await waitUntilAsync(async () => (await c.syncRecord())?.members.length === 0, 15_000, 'an empty synchronous set');
    await queryRows(c.member('m1').pg.endpoint, 'INSERT INTO t (seq) SELECT g FROM generate_series(1, 500) g');
    const m1 = c.member('m1');
    const back = new Promise<{ method: string; detail: string }>((resolve) => m1.manager.once('rejoined', resolve));
    const killedAt = performance.now();
    await m1.pg.kill('SIGKILL');
    await waitUntil(() => m1.manager.isFenced, 5000, 'm1 fenced');
    const info = await back;
    await waitUntilAsync(async () => (await c.writable()).join() === 'm1', 15_000, 'm1 writable again');
    await annotate(`m1 restarted in place (${info.detail}) and writable again ${Math.round(performance.now() - killedAt)} ms after the kill`);
    expect(performance.now() - killedAt).toBeGreaterThan(9000);
    expect(await c.missingSeqs('m1', Array.from({ length: 500 }, (_, i) => i + 1))).toEqual([]);
    expect(await c.leader()).toBe('m1');
  });
});
