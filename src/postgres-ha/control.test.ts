import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../coordination/etcd-client.js';
import { EtcdCluster } from '../testing/etcd-cluster.js';
import { BulwarkError } from '../core/errors.js';
import { freePort } from '../testing/net.js';
import {
  checkFailover, readEtcdView, requestFailover, requestSwitchover, waitForNewPrimary, writeRequest,
  type ControlContext, type ControlTopology, type DirectView,
} from './control.js';
import { databaseKeys, REQUEST_TTL_SECONDS, type HistoryEntry, type MemberRecord } from './keys.js';

/** Nothing listens on these ports: the direct view of every member is "unreachable". */
async function topology(database: string, synchronousMode = true): Promise<ControlTopology> {
  const names = ['m1', 'm2', 'm3'];
  const members = await Promise.all(names.map(async (name) => ({ name, endpoint: { host: '127.0.0.1', port: await freePort(), user: 'bulwark', password: 'pw-test-1234' } })));
  return { database, members, synchronousMode, maximumLagOnFailover: 1024n * 1024n };
}

function record(role: MemberRecord['role'], lsn: string, fenced = false): MemberRecord {
  return { role, timeline: 1, lsn, fenced, host: '127.0.0.1', port: 5432 };
}

async function rejection(promise: Promise<unknown>): Promise<BulwarkError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof BulwarkError)) throw new Error(`expected a BulwarkError, got ${String(err)}`);
  return err;
}

describe('bulwark db control against a real etcd', () => {
  let cluster: EtcdCluster;
  let etcd: EtcdClient;
  let n = 0;

  beforeAll(async () => {
    cluster = await EtcdCluster.start({ size: 1 });
    etcd = new EtcdClient({ endpoints: cluster.clientUrls(), timeoutMs: 2000 });
  });
  afterAll(async () => {
    await etcd?.close();
    await cluster?.stopAll();
  });

  /** A fresh database name per test, with a leader m1 (unless `leader: undefined`), records and a sync set [m1, m2]. */
  async function setUp(o: { leader?: string | undefined; synchronousMode?: boolean; records?: Record<string, MemberRecord>; sync?: string[]; optime?: string } = {}): Promise<ControlContext> {
    const keys = databaseKeys(`db${++n}`);
    const ctx: ControlContext = { etcd, keys, topology: await topology(`db${n}`, o.synchronousMode ?? true) };
    const leader = 'leader' in o ? o.leader : 'm1';
    if (leader) {
      const lease = await etcd.grantLease(60);
      await etcd.put(keys.leader, leader, { lease: lease.id });
    }
    const records = o.records ?? { m1: record('primary', '0/3000000'), m2: record('replica', '0/3000000'), m3: record('replica', '0/2000000') };
    for (const [name, r] of Object.entries(records)) await etcd.put(keys.member(name), JSON.stringify(r));
    await etcd.put(keys.sync, JSON.stringify({ leader: 'm1', members: o.sync ?? ['m1', 'm2'] }));
    await etcd.put(keys.optime, o.optime ?? '0/3000000');
    return ctx;
  }

  it('reads every record of a database, and nothing of another', async () => {
    const ctx = await setUp();
    const history: HistoryEntry[] = [{ kind: 'failover', from: 'm0', to: 'm1', timeline: 2, at: '2026-01-01T00:00:00.000Z', durationMs: 1234 }];
    await etcd.put(ctx.keys.history, JSON.stringify(history));
    const view = await readEtcdView(etcd, ctx.keys, ['m1', 'm2', 'm3', 'm4']);
    expect(view.leader?.value).toBe('m1');
    expect(view.leader?.leaseId).toBeDefined();
    expect(Object.keys(view.members).sort()).toEqual(['m1', 'm2', 'm3']);
    expect(view.members.m2).toMatchObject({ role: 'replica', lsn: '0/3000000', fenced: false });
    expect(view.sync).toEqual({ leader: 'm1', members: ['m1', 'm2'] });
    expect(view.optime).toBe('0/3000000');
    expect(view.history).toEqual(history);
    expect(view.switchover).toBeUndefined();
    const empty = await readEtcdView(etcd, databaseKeys('nothing-here'), ['m1']);
    expect(empty).toMatchObject({ leader: undefined, members: {}, sync: undefined, optime: undefined, history: [] });
  });

  it('writes a switchover request under a short lease, and refuses a second one while it is pending', async () => {
    const ctx = await setUp();
    const first = await requestSwitchover(ctx, 'm2');
    expect(first).toMatchObject({ from: 'm1', to: 'm2', request: { from: 'm1', to: 'm2' } });
    const { kv } = await etcd.get(ctx.keys.switchover);
    expect(JSON.parse(kv!.value)).toEqual(first.request);
    expect(kv!.lease).toBe(first.leaseId);
    expect(await etcd.keepAliveOnce(first.leaseId)).toBe(REQUEST_TTL_SECONDS);

    const again = await rejection(requestSwitchover(ctx, undefined));
    expect(again.code).toBe('BAD_REQUEST');
    expect(again.message).toMatch(/a switchover of db\d+ is already pending \(from m1 to m2, requested at /);
    expect(again.hint).toMatch(/expire/);
    // The same refusal when the request appears between the read and the write: the lease given for it is revoked.
    const raced = await rejection(writeRequest(ctx, ctx.keys.switchover, { from: 'm1', requestedAt: new Date().toISOString() }));
    expect(raced.message).toMatch(/already pending: \{"from":"m1","to":"m2"/);
    expect(JSON.parse((await etcd.get(ctx.keys.switchover)).kv!.value)).toEqual(first.request);
  });

  it('refuses switchovers the managers could not carry out, saying what to do', async () => {
    const noLeader = await rejection(requestSwitchover(await setUp({ leader: undefined }), 'm2'));
    expect(noLeader.code).toBe('BAD_REQUEST');
    expect(noLeader.message).toMatch(/has no leader/);
    expect(noLeader.hint).toMatch(/bulwark db failover db\d+ --to MEMBER/);

    const ctx = await setUp({
      records: { m1: record('primary', '0/3000000'), m2: record('replica', '0/3000000', true), m3: record('replica', '0/3000000') },
      sync: ['m1', 'm2'],
    });
    const unknown = await rejection(requestSwitchover(ctx, 'm9'));
    expect(unknown.code).toBe('USAGE');
    expect(unknown.message).toMatch(/has no member "m9"/);
    expect(unknown.hint).toBe('members in bulwark.yaml: m1, m2, m3');
    const self = await rejection(requestSwitchover(ctx, 'm1'));
    expect(self.code).toBe('USAGE');
    expect(self.message).toMatch(/m1 is already the leader/);
    expect((await rejection(requestSwitchover(ctx, 'm2'))).message).toMatch(/cannot switch over to m2: m2 is fenced/);
    expect((await rejection(requestSwitchover(ctx, 'm3'))).message).toMatch(/m3 is not in the synchronous set \[m1, m2\]/);
    // Without --to, every other member is considered, and each reason is given.
    const none = await rejection(requestSwitchover(ctx, undefined));
    expect(none.message).toMatch(/no member can take over from m1: m2 is fenced.*; m3 is not in the synchronous set/);

    const gone = await setUp({ records: { m1: record('primary', '0/3000000'), m2: record('stopped', '0/0') } });
    expect((await rejection(requestSwitchover(gone, 'm3'))).message).toMatch(/m3 publishes no member record: its manager is not running/);
    expect((await rejection(requestSwitchover(gone, 'm2'))).message).toMatch(/m2 is not a running replica \(its role is stopped\)/);
    // Nothing was written by any refusal.
    for (const c of [ctx, gone]) expect((await etcd.get(c.keys.switchover)).kv).toBeUndefined();
  });

  it('asynchronous mode has no sync-set rule for a switchover', async () => {
    const ctx = await setUp({ synchronousMode: false, sync: [] });
    expect((await requestSwitchover(ctx, 'm3')).to).toBe('m3');
  });

  it('manual failover: refused while a leader holds the key; needs --allow-data-loss when the rules would refuse', async () => {
    const led = await rejection(requestFailover(await setUp(), 'm2', false, 300));
    expect(led.message).toBe('the cluster has a primary (m1); use `bulwark db switchover`');
    expect(led.hint).toBe('bulwark db switchover db' + n + ' --to m2');

    // Synchronous: m3 is not in the set [m1, m2], and m1, m2 of that set are not visible.
    const sync = await setUp({ leader: undefined });
    const refused = await rejection(requestFailover(sync, 'm3', false, 300));
    expect(refused.code).toBe('BAD_REQUEST');
    expect(refused.message).toMatch(/failover to m3 may lose acknowledged data: m3 is not in the recorded synchronous set \[m1, m2\].*m1, m2 of the synchronous set are not visible/);
    expect(refused.hint).toMatch(/--allow-data-loss/);
    expect((await etcd.get(sync.keys.failover)).kv).toBeUndefined();
    const accepted = await requestFailover(sync, 'm3', true, 300);
    expect(accepted.risks.length).toBeGreaterThanOrEqual(2);
    expect(accepted.behindOptimeBytes).toBe(0x1000000n);
    const { kv } = await etcd.get(sync.keys.failover);
    expect(JSON.parse(kv!.value)).toMatchObject({ to: 'm3', allowDataLoss: true });
    expect(kv!.lease).toBe(accepted.leaseId);
    expect((await rejection(requestFailover(sync, 'm2', true, 300))).message).toMatch(/a failover of db\d+ to m3 is already pending/);
    expect((await rejection(requestSwitchover(sync, 'm2'))).message).toMatch(/has no leader/);

    // Asynchronous: lag against the published optime decides.
    const lagging = await setUp({ leader: undefined, synchronousMode: false, optime: '0/5000000' });
    expect((await rejection(requestFailover(lagging, 'm2', false, 300))).message).toMatch(/m2 is 33554432 bytes behind the last published primary position \(0\/5000000\), above maximum_lag_on_failover/);
    const close = await setUp({ leader: undefined, synchronousMode: false, optime: '0/3000100' });
    expect((await requestFailover(close, 'm2', false, 300)).risks).toEqual([]);

    const fenced = await setUp({ leader: undefined, records: { m2: record('replica', '0/3000000', true) } });
    expect((await rejection(requestFailover(fenced, 'm2', true, 300))).message).toMatch(/m2 is fenced/);
    expect((await rejection(requestFailover(fenced, 'm3', true, 300))).message).toMatch(/m3 publishes no member record/);
  });

  it('counts a visible member further ahead as a risk (pure check)', async () => {
    const t = await topology('pure');
    const view = {
      leader: undefined, members: { m2: record('replica', '0/3000000'), m3: record('replica', '0/3000100') },
      sync: { leader: 'm1', members: ['m2', 'm3'] }, optime: '0/3000100', history: [], switchover: undefined, failover: undefined,
    };
    const seen = (name: string, lsn: string): DirectView => ({ name, host: '127.0.0.1', port: 1, reachable: true, role: 'replica', timeline: 1, lsn });
    const err = (() => {
      try {
        checkFailover(t, view, [seen('m2', '0/3000000'), seen('m3', '0/3000100')], 'm2', false);
      } catch (e) {
        return e as BulwarkError;
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/m3 is 256 bytes further ahead than m2/);
    expect(checkFailover(t, view, [seen('m2', '0/3000000'), seen('m3', '0/3000100')], 'm3', false).risks).toEqual([]);
  });

  it('waiting ends with a clear error at the timeout, or early when the request is dropped', async () => {
    const ctx = await setUp();
    const written = await requestSwitchover(ctx, 'm2');
    const started = performance.now();
    const timeout = await rejection(waitForNewPrimary(ctx, {
      kind: 'switchover', from: 'm1', to: 'm2', requestKey: ctx.keys.switchover, requestedAt: written.request.requestedAt, writtenAt: written.writtenAt, timeoutMs: 600,
    }));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(timeout.message).toMatch(/the switchover of db\d+ did not finish within 1 s: the leader key names m1/);
    expect(timeout.hint).toMatch(/expires by itself/);

    await etcd.revokeLease(written.leaseId);
    const dropped = await rejection(waitForNewPrimary(ctx, {
      kind: 'switchover', from: 'm1', to: 'm2', requestKey: ctx.keys.switchover, requestedAt: written.request.requestedAt, writtenAt: performance.now(), timeoutMs: 10_000,
    }));
    expect(dropped.message).toMatch(/request of db\d+ was withdrawn and m1 still leads/);

    const other = await setUp({ leader: 'm3' });
    const wrong = await rejection(waitForNewPrimary(other, {
      kind: 'switchover', from: 'm1', to: 'm2', requestKey: other.keys.switchover, requestedAt: new Date().toISOString(), writtenAt: performance.now(), timeoutMs: 5000,
    }));
    expect(wrong.message).toMatch(/m3 took the leader key of db\d+, not m2/);
  });
});
