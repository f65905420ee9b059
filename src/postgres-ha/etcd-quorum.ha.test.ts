/**
 * etcd loses quorum under write load: 2 of the 3 etcd members are SIGKILLed, then restarted. Real
 * etcd (3), PostgreSQL 15 (3), 3 MemberManagers in this process. Synchronous mode, TTL 10 s, loop 1 s.
 * A new raft leader extends every lease by its full TTL (coordination/README.md), so the old leader
 * key outlives the outage by about one TTL.
 */
import { describe, expect, it } from 'vitest';
import { FailoverWriter } from './testing/failover-writer.js';
import { faultSuite, missingAcks, noteFor, sleep, SplitBrainProbe } from './testing/fault-tools.js';
import { HaCluster, waitUntil } from './testing/ha-cluster.js';

const env = faultSuite();
const TTL_MS = 10_000;

describe('PostgreSQL HA when etcd loses quorum', () => {
  it('the primary fences itself when its lease validity passes, nobody is promoted meanwhile; after quorum returns a leader is elected and writes resume', async (ctx) => {
    const note = noteFor(ctx);
    const c = (env.cluster = await HaCluster.start());
    const m1 = c.member('m1');
    let fencedAt = Number.NaN;
    m1.manager.once('fenced', ({ at }) => { fencedAt = at; });
    const acquisitions: { member: string; at: number }[] = [];
    for (const m of c.members) m.manager.on('acquired', ({ at }) => acquisitions.push({ member: m.name, at }));
    const w = (env.writer = new FailoverWriter(c.targets()));
    w.start();
    await w.until((acks) => acks.length >= 200, 15_000);
    const p = (env.probe = new SplitBrainProbe(c));

    const lostAt = performance.now();
    await Promise.all([c.etcd.stop(1), c.etcd.stop(2)]);
    await waitUntil(() => !Number.isNaN(fencedAt), TTL_MS + 3000, 'm1 to fence itself');
    await sleep(lostAt + TTL_MS + 3000 - performance.now());
    const restartAt = performance.now();
    const lastOld = [...w.acks].reverse().find((a) => a.member === 'm1');
    const duringOutage = { writable: p.maxWritableBetween(fencedAt + 500, restartAt), acquisitions: acquisitions.filter((a) => a.at > lostAt).length };

    await Promise.all([c.etcd.start(1), c.etcd.start(2)]);
    const quorumAt = performance.now();
    await w.until((acks) => acks.some((a) => a.at > quorumAt), 30_000);
    const firstNew = w.acks.find((a) => a.at > quorumAt);
    const acquired = acquisitions.find((a) => a.at > lostAt);
    await waitUntil(() => p.keyLeft('m1', quorumAt) !== undefined, 5000, 'the probe to see the key leave m1');
    await note(`2 of 3 etcd members killed: m1 fenced after ${Math.round(fencedAt - lostAt)} ms (last m1 ack at ${Math.round((lastOld?.at ?? NaN) - lostAt)} ms); `
      + `until etcd restarted at ${Math.round(restartAt - lostAt)} ms: max writable after the fence ${duringOutage.writable}, acquisitions ${duringOutage.acquisitions}`);
    await note(`quorum back ${Math.round(quorumAt - restartAt)} ms after the restart; from then: key left m1 after ${Math.round((p.keyLeft('m1', quorumAt) ?? NaN) - quorumAt)} ms, `
      + `${acquired?.member} acquired after ${Math.round((acquired?.at ?? NaN) - quorumAt)} ms, first acknowledged write (on ${firstNew?.member}) after ${Math.round((firstNew?.at ?? NaN) - quorumAt)} ms`);

    expect(fencedAt - lostAt).toBeLessThan(TTL_MS);
    expect(lastOld?.at ?? 0).toBeLessThan(fencedAt + 50);
    expect(duringOutage).toEqual({ writable: 0, acquisitions: 0 });
    expect(acquired?.at ?? 0).toBeGreaterThan(quorumAt);
    expect(firstNew?.member).not.toBe('m1');
    await w.until((acks) => (acks.at(-1)?.seq ?? 0) >= (firstNew?.seq ?? 0) + 100, 15_000);
    await p.stop();
    await w.stop();
    expect(p.maxWritable, "never two writable members").toBeLessThanOrEqual(1);
    expect(await missingAcks(c, firstNew?.member ?? '', w.acks)).toEqual([]);
  }, 90_000);
});
