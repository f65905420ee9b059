/**
 * The synchronous standbys die, one after the other, under write load: real etcd (3), PostgreSQL 15
 * (3) and MemberManagers each in a child process with its PostgreSQL (`managersInChildren`), so a
 * standby "host" dies whole: if only its PostgreSQL died, its manager would restart it within a loop.
 * Synchronous mode, ANY 1 over the streaming standbys, TTL 10 s, loop 1 s, degrade_after 5 s (the default).
 */
import { describe, expect, it } from 'vitest';
import { FailoverWriter } from './testing/failover-writer.js';
import {
  faultSuite, longestAckGap, missingAcks, noteFor, sleep, SplitBrainProbe, synchronousStandbyNames, tryInsert,
} from './testing/fault-tools.js';
import { HaCluster, waitUntilAsync } from './testing/ha-cluster.js';

const env = faultSuite();
const TTL_MS = 10_000;

async function recordedSet(c: HaCluster): Promise<string> {
  const record = await c.syncRecord();
  return record ? record.members.join(',') : '(no record)';
}

describe('PostgreSQL HA when the synchronous standbys die', () => {
  it('non-strict: the set shrinks to the survivor, then the primary goes asynchronous; with the primary gone too, nobody is promoted', async (ctx) => {
    const note = noteFor(ctx);
    const c = (env.cluster = await HaCluster.start({ managersInChildren: true }));
    const proc = (name: string) => c.member(name).process!;
    const w = (env.writer = new FailoverWriter(c.targets()));
    w.start();
    await w.until((acks) => acks.length >= 200, 15_000);
    const p = (env.probe = new SplitBrainProbe(c));

    // The first standby dies: the other one still acknowledges, the set shrinks to it.
    const k1 = await proc('m3').kill();
    await waitUntilAsync(async () => (await recordedSet(c)) === 'm2', 10_000, 'the recorded set to shrink to m2');
    const shrunkAt = performance.now();
    expect(await synchronousStandbyNames(c, 'm1')).toBe('ANY 1 ("m2")');
    const n1 = w.acks.length;
    await w.until((acks) => acks.length >= n1 + 100, 10_000);
    const gap1 = longestAckGap(w.acks, k1.at, shrunkAt);

    // The second dies: commits wait degrade_after (5 s) with no standby, then the primary drops synchronous replication.
    const k2 = await proc('m2').kill();
    await waitUntilAsync(async () => (await recordedSet(c)) === '', 20_000, 'the recorded set to become empty');
    const emptiedAt = performance.now();
    expect(await synchronousStandbyNames(c, 'm1')).toBe('');
    const n2 = w.acks.length;
    await w.until((acks) => acks.length >= n2 + 100, 10_000);
    const gap2 = longestAckGap(w.acks, k2.at, performance.now());
    await note(`m3 killed: set recorded as [m2] after ${Math.round(shrunkAt - k1.at)} ms (poll), longest write pause ${Math.round(gap1.ms)} ms; `
      + `m2 killed: set recorded empty after ${Math.round(emptiedAt - k2.at)} ms, longest write pause ${Math.round(gap2.ms)} ms `
      + `(from ${signed(gap2.after - k2.at)} ms after the kill), writes go on asynchronously`);

    // The primary dies too. Its last commits are nowhere else: no standby may take over.
    const k3 = await proc('m1').kill();
    const onlyOnM1 = w.acks.filter((a) => a.at > emptiedAt).length;
    await Promise.all([c.restartMember('m2'), c.restartMember('m3')]);
    const restartedAt = performance.now();
    await sleep(k3.at + TTL_MS + 5000 - performance.now());
    const watchedUntil = performance.now();
    const leaders = p.leadersBetween(k3.at, watchedUntil);
    const maxWritable = p.maxWritableBetween(k3.at + 1000, watchedUntil);
    await note(`m1 killed (${onlyOnM1} acknowledged inserts only on m1); m2 and m3 restarted ${Math.round(restartedAt - k3.at)} ms after; `
      + `until ${Math.round(watchedUntil - k3.at)} ms after the kill: leader key ${leaders.map((l) => l ?? '(none)').join(' -> ')}, max writable ${maxWritable}`);
    expect(maxWritable).toBe(0);
    expect(leaders.every((l) => l === undefined || l === 'm1')).toBe(true);
    expect(w.acks.filter((a) => a.at > k3.at + 1000)).toEqual([]);

    await w.stop();
    expect(p.maxWritable, "never two writable members").toBeLessThanOrEqual(1);
  }, 90_000);

  /*
   * The old primary restarts read-only (standby.signal is kept armed) and stands again: the sync
   * record {leader: m1, members: []} names it as the last primary, the one member with every
   * acknowledged commit (Patroni: SyncState.matches(name, check_leader=True)).
   */
  it('non-strict: after the asynchronous primary crashed, it leads again when it comes back, with every acknowledged insert', async (ctx) => {
    const note = noteFor(ctx);
    const c = (env.cluster = await HaCluster.start({ managersInChildren: true }));
    const proc = (name: string) => c.member(name).process!;
    const w = (env.writer = new FailoverWriter(c.targets()));
    w.start();
    await w.until((acks) => acks.length >= 100, 15_000);
    await Promise.all([proc('m2').kill(), proc('m3').kill()]);
    await waitUntilAsync(async () => (await recordedSet(c)) === '', 20_000, 'the recorded set to become empty');
    const emptiedAt = performance.now();
    await w.until((acks) => acks.filter((a) => a.at > emptiedAt).length >= 100, 10_000);
    await proc('m1').kill();
    const backAt = performance.now();
    await c.restartMember('m1');
    try {
      await w.until((acks) => acks.some((a) => a.at > backAt), 20_000);
    } finally {
      const firstBack = w.acks.find((a) => a.at > backAt);
      await note(firstBack
        ? `m1 restarted: first acknowledged write on ${firstBack.member} ${Math.round(firstBack.at - backAt)} ms later`
        : `m1 restarted: no write acknowledged within 20 s; leader key ${await c.leader().catch(() => 'error')}, writable [${(await c.writable()).join(', ')}]`);
    }
    await w.stop();
    expect(w.acks.at(-1)?.member).toBe('m1');
    expect(await missingAcks(c, 'm1', w.acks)).toEqual([]);
  });

  it('strict: with the last synchronous standby gone writes block and synchronous_standby_names stays set; a standby coming back unblocks them', async (ctx) => {
    const note = noteFor(ctx);
    const c = (env.cluster = await HaCluster.start({ managersInChildren: true, strict: true }));
    const proc = (name: string) => c.member(name).process!;
    const w = (env.writer = new FailoverWriter(c.targets()));
    w.start();
    await w.until((acks) => acks.length >= 200, 15_000);
    const p = (env.probe = new SplitBrainProbe(c));

    const k1 = await proc('m3').kill();
    await waitUntilAsync(async () => (await recordedSet(c)) === 'm2', 10_000, 'the recorded set to shrink to m2');
    const shrunkAt = performance.now();
    const n1 = w.acks.length;
    await w.until((acks) => acks.length >= n1 + 100, 10_000);

    // The last synchronous standby goes: commits must wait for it (or another standby), for ever.
    // Its host shuts down cleanly, so that it can come back: a crashed standby cannot rejoin yet (see below).
    // Measured from when its process has exited: until its PostgreSQL is down it still streams and acknowledges
    // (stopping the manager first can take a loop on a loaded machine).
    await proc('m2').stop({ postgres: 'fast' });
    const stoppedAt = performance.now();
    await sleep(3000);
    const direct = await tryInsert({ endpoint: c.member('m1').pg.endpoint }, 2_000_001, 3000);
    const recorded = await recordedSet(c);
    const names = await synchronousStandbyNames(c, 'm1');
    const acksAfter = w.acks.filter((a) => a.at > stoppedAt + 200);
    await note(`strict: m3 killed -> set [m2] after ${Math.round(shrunkAt - k1.at)} ms; m2 shut down -> ${Math.round(performance.now() - stoppedAt)} ms later: `
      + `recorded set [${recorded}], synchronous_standby_names '${names}', writer acks since ${acksAfter.length}, direct INSERT: ${direct.outcome} (${direct.detail})`);
    expect(direct.outcome).toBe('no answer');
    expect(acksAfter).toEqual([]);
    expect(names).not.toBe('');
    expect(recorded).toBe('m2');

    // The standby comes back: the blocked writes complete.
    const backAt = performance.now();
    await c.restartMember('m2');
    await w.until((acks) => acks.some((a) => a.at > backAt), 30_000);
    const firstAfter = w.acks.find((a) => a.at > backAt);
    await note(`m2 restarted: first acknowledged write ${Math.round((firstAfter?.at ?? NaN) - backAt)} ms later `
      + `(writes blocked ${Math.round((firstAfter?.at ?? NaN) - stoppedAt)} ms in all); recorded set [${await recordedSet(c)}], synchronous_standby_names '${await synchronousStandbyNames(c, 'm1')}'`);
    const n3 = w.acks.length;
    await w.until((acks) => acks.length >= n3 + 100, 15_000);
    await w.stop();
    expect(await missingAcks(c, 'm1', w.acks)).toEqual([]);
    expect(p.maxWritable, "never two writable members").toBeLessThanOrEqual(1);
  }, 90_000);

  /*
   * Regression: a crashed standby ("in archive recovery") was rejoined through pg_rewind, whose crash
   * recovery outside standby mode writes checkpoints past the WAL it received; it then never streamed
   * again. It is now started in standby mode as it is (reproduced with plain PostgreSQL tools).
   */
  it('a crashed standby host comes back: it streams again and rejoins the synchronous set', async (ctx) => {
    const note = noteFor(ctx);
    const c = (env.cluster = await HaCluster.start({ managersInChildren: true }));
    const w = (env.writer = new FailoverWriter(c.targets()));
    w.start();
    await w.until((acks) => acks.length >= 200, 15_000);
    await c.member('m3').process!.kill();
    await waitUntilAsync(async () => (await recordedSet(c)) === 'm2', 10_000, 'the recorded set to shrink to m2');
    const backAt = performance.now();
    await c.restartMember('m3');
    try {
      await waitUntilAsync(async () => (await recordedSet(c)) === 'm2,m3', 25_000, 'm3 back in the synchronous set');
      await note(`m3 back in the synchronous set ${Math.round(performance.now() - backAt)} ms after its restart`);
    } catch (err) {
      await note(`m3 not back in the synchronous set ${Math.round(performance.now() - backAt)} ms after its restart (recorded [${await recordedSet(c)}])`);
      throw err;
    }
    await w.stop();
    // Replay on a standby trails the acknowledgement (synchronous_commit = on waits for the flush only).
    await waitUntilAsync(async () => (await missingAcks(c, 'm3', w.acks)).length === 0, 5000, 'every acknowledged insert replayed on m3');
  }, 60_000);
});

function signed(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${Math.round(ms)}`;
}
