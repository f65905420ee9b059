/**
 * What a planned switchover looks like to clients, with and without PgBouncer's PAUSE, from one
 * run: one HaCluster (3 etcd, 3 PostgreSQL, 3 MemberManagers in this process, synchronous mode,
 * Bulwark's default TTL 10 s and loop_wait 2 s) and, at the same time, three groups of writers,
 * each inserting one row per autocommit transaction into its own table:
 *
 *  - `pause`: 8 clients through a PgBouncer (transaction mode, pool 25) that Bulwark PAUSEs before
 *    the handover and RESUMEs after (src/postgres-ha/pooler);
 *  - `no pause`: 8 clients through a second PgBouncer that Bulwark re-points (RELOAD + RECONNECT)
 *    but does not announce the switchover to (`pauseOnSwitchover: false`): what a Patroni +
 *    PgBouncer deployment without a pause script does;
 *  - `direct`: one client straight to whichever member is writable (bench/failover.ts's writer).
 *
 * Each trial: a switchover request with no target (as `bulwark db switchover`), then both poolers
 * re-pointed and resumed, the old primary streaming again, 100 more acknowledgements per group.
 * Per group and trial: client errors, the longest gap without an acknowledgement, the longest
 * single transaction (time spent queued in a paused PgBouncer included).
 *
 *   npx tsx bench/pgbouncer.ts [--trials 3] [--json]
 */
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { freePort } from '../src/testing/net.js';
import { requestSwitchover } from '../src/postgres-ha/control.js';
import { databaseKeys } from '../src/postgres-ha/keys.js';
import { queryRows } from '../src/postgres-ha/pg-query.js';
import { PrimaryTracker } from '../src/postgres-ha/primary-tracker.js';
import { DatabasePooler } from '../src/postgres-ha/pooler/database-pooler.js';
import { PooledWriter } from '../src/postgres-ha/pooler/testing/pooled-writer.js';
import { FailoverWriter } from '../src/postgres-ha/testing/failover-writer.js';
import { HaCluster, waitUntil, waitUntilAsync } from '../src/postgres-ha/testing/ha-cluster.js';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '3' }, json: { type: 'boolean', default: false } } });
const TRIALS = Number(values.trials);
const CLIENTS = 8;

interface GroupResult { errors: number; longestGapMs: number; longestTransactionMs: number }
type Trial = Record<'pause' | 'no pause' | 'direct', GroupResult> & { from: string; to: string; pausedMs: number | undefined };

function progress(text: string): void {
  process.stderr.write(`${new Date().toISOString()} ${text}\n`);
}

async function pooler(c: HaCluster, pauseOnSwitchover: boolean): Promise<{ p: DatabasePooler; port: number }> {
  const members = c.members.map((m) => ({ name: m.name, host: m.pg.endpoint.host, port: m.pg.endpoint.port }));
  const tracker = new PrimaryTracker({ database: 'main-db', members, user: 'bulwark', password: c.password, etcd: c.etcdClient });
  const port = await freePort();
  const p = new DatabasePooler({
    database: 'main-db', config: { listen: `127.0.0.1:${port}`, pool_mode: 'transaction', max_client_conn: 1000, default_pool_size: 25, pause_timeout: 10_000 },
    postgres: { superuser: 'bulwark', superuser_password: c.password, members }, tracker, etcd: c.etcdClient, prefix: '/bulwark', runAs: c.runAs,
    log: c.log.log, pauseOnSwitchover,
  });
  await p.start();
  return { p, port };
}

function directResult(w: FailoverWriter, from: number, to: number, unknownBefore: number): GroupResult {
  const inside = w.acks.filter((a) => a.at >= from && a.at <= to);
  let gap = 0;
  let previous = from;
  for (const a of inside) {
    gap = Math.max(gap, a.at - previous);
    previous = a.at;
  }
  return { errors: w.unknown.length - unknownBefore, longestGapMs: Math.max(gap, to - previous), longestTransactionMs: Number.NaN };
}

async function trial(c: HaCluster, poolers: { paused: DatabasePooler; plain: DatabasePooler }, writers: { pause: PooledWriter; plain: PooledWriter; direct: FailoverWriter }): Promise<Trial> {
  const from = (await c.leader()) ?? '?';
  const errorsBefore = { pause: writers.pause.errors.length, plain: writers.plain.errors.length, direct: writers.direct.unknown.length };
  const acksBefore = { pause: writers.pause.acks.length, plain: writers.plain.acks.length, direct: writers.direct.acks.length };
  const started = performance.now();
  await requestSwitchover({ etcd: c.etcdClient, keys: databaseKeys('main-db'), topology: { database: 'main-db', members: c.targets(), synchronousMode: true, maximumLagOnFailover: 1_048_576n } }, undefined);
  const moved = (p: DatabasePooler): boolean => p.snapshot().upstream !== from && p.snapshot().upstream !== undefined && p.snapshot().paused === undefined;
  await waitUntil(() => moved(poolers.paused) && moved(poolers.plain), 60_000, 'both poolers re-pointed and resumed');
  const to = poolers.paused.snapshot().upstream ?? '?';
  await waitUntilAsync(() => c.streamingFrom(from, to), 60_000, `${from} streaming from ${to}`);
  await waitUntil(() => writers.pause.acks.length > acksBefore.pause + 100 && writers.plain.acks.length > acksBefore.plain + 100 && writers.direct.acks.length > acksBefore.direct + 100, 60_000, '100 more acknowledgements per group');
  const ended = performance.now();
  const pooled = (w: PooledWriter, before: number): GroupResult => ({ errors: w.errors.length - before, ...w.pauseBetween(started, ended) });
  return {
    from, to, pausedMs: poolers.paused.snapshot().lastPauseMs,
    pause: pooled(writers.pause, errorsBefore.pause), 'no pause': pooled(writers.plain, errorsBefore.plain),
    direct: directResult(writers.direct, started, ended, errorsBefore.direct),
  };
}

function summary(trials: Trial[]): string {
  const lines = [`${trials.length} switchovers, ${CLIENTS} clients per PgBouncer group, 1 direct client; ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}`];
  lines.push('group      errors (per trial)      longest gap ms (per trial)      longest transaction ms');
  for (const g of ['pause', 'no pause', 'direct'] as const) {
    const col = (pick: (r: GroupResult) => number): string => trials.map((t) => (Number.isNaN(pick(t[g])) ? '-' : Math.round(pick(t[g])))).join(', ');
    lines.push(`${g.padEnd(10)} ${col((r) => r.errors).padEnd(23)} ${col((r) => r.longestGapMs).padEnd(31)} ${col((r) => r.longestTransactionMs)}`);
  }
  lines.push(`PgBouncer paused (PAUSE → RESUME) ms: ${trials.map((t) => Math.round(t.pausedMs ?? Number.NaN)).join(', ')}`);
  return lines.join('\n');
}

async function main(): Promise<number> {
  progress('starting 3 etcd + 3 PostgreSQL + 3 managers (TTL 10 s, loop_wait 2 s)');
  const c = await HaCluster.start({ ttlSeconds: 10, loopWaitMs: 2000 });
  const stops: Array<() => Promise<unknown>> = [];
  try {
    for (const table of ['t_pause', 't_plain', 't_direct']) await queryRows(c.member('m1').pg.endpoint, `CREATE TABLE ${table} (seq int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    const paused = await pooler(c, true);
    const plain = await pooler(c, false);
    stops.push(() => paused.p.stop(AbortSignal.timeout(10_000)), () => plain.p.stop(AbortSignal.timeout(10_000)));
    await waitUntil(() => paused.p.snapshot().upstream === 'm1' && plain.p.snapshot().upstream === 'm1' && !paused.p.snapshot().paused && !plain.p.snapshot().paused, 20_000, 'poolers on m1');
    const writerOf = (port: number, table: string): PooledWriter => new PooledWriter({ host: '127.0.0.1', port, user: 'bulwark', password: c.password, database: 'postgres', clients: CLIENTS, table });
    const writers = { pause: writerOf(paused.port, 't_pause'), plain: writerOf(plain.port, 't_plain'), direct: new FailoverWriter(c.targets(), 't_direct') };
    writers.pause.start();
    writers.plain.start();
    writers.direct.start();
    stops.unshift(() => writers.pause.stop(), () => writers.plain.stop(), () => writers.direct.stop());
    await waitUntil(() => writers.pause.acks.length > 200 && writers.plain.acks.length > 200 && writers.direct.acks.length > 50, 30_000, 'writers under way');
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const t = await trial(c, { paused: paused.p, plain: plain.p }, writers);
      trials.push(t);
      progress(`trial ${i + 1}: ${t.from} -> ${t.to}; errors pause ${t.pause.errors}, no pause ${t['no pause'].errors}, direct ${t.direct.errors}; gaps ${Math.round(t.pause.longestGapMs)} / ${Math.round(t['no pause'].longestGapMs)} / ${Math.round(t.direct.longestGapMs)} ms`);
    }
    process.stdout.write(values.json ? `${JSON.stringify(trials, null, 2)}\n` : `${summary(trials)}\n`);
    return 0;
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
    await c.stop();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(2);
});
