/**
 * PgBouncer (the Debian package) in front of a real HA cluster: 3 etcd,
 * 3 PostgreSQL, 3 member managers (TTL 10 s, loop 1 s), 8 clients writing
 * through PgBouncer in transaction mode. A planned switchover shows them a
 * pause and no error; a SIGKILLed primary fails only the transactions that
 * were in flight. Pauses and errors are printed, not asserted on time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../testing/net.js';
import { requestSwitchover, type ControlContext } from '../control.js';
import { databaseKeys } from '../keys.js';
import { PrimaryTracker } from '../primary-tracker.js';
import { HaCluster, waitUntil } from '../testing/ha-cluster.js';
import { adminCommand } from './admin-console.js';
import { DatabasePooler } from './database-pooler.js';
import { PooledWriter } from './testing/pooled-writer.js';

const CLIENTS = 8;
let cluster: HaCluster | undefined;
let pooler: DatabasePooler | undefined;
let writer: PooledWriter | undefined;

afterEach(async (ctx) => {
  await writer?.stop();
  await pooler?.stop(AbortSignal.timeout(10_000));
  if (ctx.task.result?.state === 'fail' && cluster) {
    const tail = cluster.log.lines.slice(-80).map((l) => JSON.stringify(l)).join('\n');
    ctx.task.result.errors?.push({ name: 'log', message: tail } as never);
  }
  await cluster?.stop();
  cluster = writer = pooler = undefined;
});

async function setUp(): Promise<{ c: HaCluster; p: DatabasePooler; w: PooledWriter; port: number }> {
  const c = (cluster = await HaCluster.start());
  const members = c.members.map((m) => ({ name: m.name, host: m.pg.endpoint.host, port: m.pg.endpoint.port }));
  const tracker = new PrimaryTracker({ database: 'main-db', members, user: 'bulwark', password: c.password, etcd: c.etcdClient, log: c.log.log });
  const port = await freePort();
  const p = (pooler = new DatabasePooler({
    database: 'main-db',
    config: { listen: `127.0.0.1:${port}`, pool_mode: 'transaction', max_client_conn: 1000, default_pool_size: 25, pause_timeout: 10_000 },
    postgres: { superuser: 'bulwark', superuser_password: c.password, members },
    tracker, etcd: c.etcdClient, prefix: '/bulwark', runAs: c.runAs, log: c.log.log,
  }));
  await p.start();
  await waitUntil(() => p.snapshot().upstream === 'm1' && p.snapshot().paused === undefined, 10_000, 'PgBouncer pointed at m1');
  const w = (writer = new PooledWriter({ host: '127.0.0.1', port, user: 'bulwark', password: c.password, database: 'postgres', clients: CLIENTS }));
  w.start();
  await w.until((x) => x.acks.length >= 200, 20_000, '200 acknowledged inserts');
  return { c, p, w, port };
}

function control(c: HaCluster): ControlContext {
  return {
    etcd: c.etcdClient, keys: databaseKeys('main-db'),
    topology: { database: 'main-db', members: c.targets(), synchronousMode: true, maximumLagOnFailover: 1_048_576n },
  };
}

describe('PgBouncer in front of the primary', () => {
  it('a planned switchover: clients see a pause, no error, and nothing acknowledged is lost', async ({ annotate }) => {
    const { c, p, w, port } = await setUp();
    const pools = await adminCommand<{ database: string; cl_active: string }>({ host: '127.0.0.1', port, password: (p as unknown as { admin: { password: string } }).admin.password }, 'SHOW POOLS', 3000);
    expect(pools.some((row) => row.database === 'postgres')).toBe(true);

    const requested = performance.now();
    await requestSwitchover(control(c), undefined);
    await waitUntil(() => p.snapshot().upstream !== 'm1' && p.snapshot().paused === undefined, 30_000, 'PgBouncer re-pointed and resumed');
    const resumedAt = performance.now();
    const before = w.acks.length;
    await w.until((x) => x.acks.length >= before + 200, 20_000, '200 more inserts after the switchover');
    await w.stop();

    const pause = w.pauseBetween(requested, resumedAt + 1000);
    const snapshot = p.snapshot();
    const text = `switchover through PgBouncer (${CLIENTS} clients): ${w.errors.length} client errors; longest gap without a commit ${Math.round(pause.longestGapMs)} ms, ` +
      `longest transaction ${Math.round(pause.longestTransactionMs)} ms; PgBouncer paused ${Math.round(snapshot.lastPauseMs ?? 0)} ms; new primary ${snapshot.upstream}`;
    process.stdout.write(`${text}\n`);
    await annotate(text);
    expect(w.errors).toEqual([]);
    expect(snapshot.repoints).toBe(1);
    const newPrimary = snapshot.upstream!;
    expect(await c.leader()).toBe(newPrimary);
    expect(await c.missingSeqs(newPrimary, w.acks.map((a) => a.seq))).toEqual([]);
  });

  it('SIGKILL of the primary: only transactions in flight fail, then PgBouncer follows the new primary', async ({ annotate }) => {
    const { c, p, w } = await setUp();
    const killed = performance.now();
    await c.member('m1').pg.kill('SIGKILL');
    await waitUntil(() => p.snapshot().upstream !== 'm1' && p.snapshot().paused === undefined, 30_000, 'PgBouncer re-pointed and resumed');
    const resumedAt = performance.now();
    const before = w.acks.length;
    await w.until((x) => x.acks.length >= before + 200, 20_000, '200 more inserts after the failover');
    await w.stop();

    const pause = w.pauseBetween(killed, resumedAt + 1000);
    const errors = w.errors.filter((e) => e.at >= killed);
    const kinds = [...new Set(errors.map((e) => e.message))];
    // PgBouncer's fast fail after its first failed connection to the dead member, when that came before our PAUSE.
    const turnedAway = errors.filter((e) => /server login has been failing/.test(e.message));
    const inFlight = errors.length - turnedAway.length;
    const text = `failover through PgBouncer (${CLIENTS} clients): ${errors.length} client errors, ${inFlight} in flight, ${turnedAway.length} turned away before the pause (${kinds.join(' | ')}); ` +
      `longest gap without a commit ${Math.round(pause.longestGapMs)} ms; new primary ${p.snapshot().upstream}`;
    process.stdout.write(`${text}\n`);
    await annotate(text);
    // At most one transaction in flight per client when the primary died (a client may fail again on its retry).
    expect(inFlight).toBeLessThanOrEqual(2 * CLIENTS);
    const newPrimary = p.snapshot().upstream!;
    expect(await c.missingSeqs(newPrimary, w.acks.map((a) => a.seq))).toEqual([]);
  });
});
