/**
 * The database failover drill: a planned switchover, or a SIGKILL of the
 * primary's postmaster, on a PostgreSQL HA database run by `bulwark up`,
 * under a synthetic writer with sequence numbers in a schema of its own.
 * Measures the RTO by phase, the write pause and the acknowledged writes
 * lost; always drops the schema and, after a kill, waits for the old primary
 * to be back as a replica (its HA loop rejoins it). See README.md.
 */
import pg from 'pg';
import type { DrillConfig } from '../config/index.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import type { PgTarget } from '../core/pg.js';
import { sleep } from '../core/time.js';
import { readHaState, requestSwitchover, withClient } from '../postgres-ha/index.js';
import type { RestoreContext } from './context.js';
import { localPostmaster, openHaDatabase, waitForCluster, type ClusterView } from './failover-cluster.js';
import { failoverFigures, failoverProblems, type Watched } from './failover-measure.js';
import { failoverDatabase } from './plan-failover.js';
import { killChecked } from './proc.js';
import { revertDatabaseEntry } from './revert-database.js';
import { presentSeqs, qualified, SequenceWriter } from './sequence-writer.js';
import type { DrillTarget, FailoverMeasurement } from './types.js';

type HaDb = ReturnType<typeof openHaDatabase>;

/** Acknowledged writes before the fault, and on the new primary before the drill goes on. */
export const WARMUP_ACKS = 200;
export const AFTER_ACKS = 100;
/** How long the cluster may take to be whole before the drill (a previous drill's rejoin may be finishing). */
const CHECK_MS = 30_000;
/** Fault → first acknowledged write on a new primary. */
const FAULT_MS = 120_000;
/** Fault → the old primary streaming from the new leader, in the synchronous set. */
const SETTLE_MS = 180_000;
/** Teardown: a writable primary to drop the schema on, or the killed member back. */
const TEARDOWN_WAIT_MS = 60_000;
const WATCH_POLL_MS = 50;

export function failoverMode(drill: DrillConfig): 'switchover' | 'kill' {
  return drill.mode ?? 'switchover';
}

/** The drill's schema: one per run, so that a leftover never collides. */
export function drillSchema(runId: string): string {
  return `bulwark_drill_${runId.replace(/-/g, '').slice(0, 12)}`;
}

/**
 * What a drill composed around this one does at its turns (the region drill:
 * the region's services taken out at the same moment as the primary).
 */
export interface FailoverHooks {
  /** After the warm-up, before the fault; `from` is the primary about to be taken out. */
  beforeFault?: (from: string) => Promise<void>;
  /** Run beside the fault, started in the same turn. */
  withFault?: () => Promise<void>;
  /** Once the new primary took its writes, before waiting for the old one to rejoin. */
  afterFailover?: () => Promise<void>;
}

interface Run {
  ctx: RestoreContext;
  hooks: FailoverHooks;
  db: HaDb;
  mode: 'switchover' | 'kill';
  table: string;
  writer: SequenceWriter;
}

export async function runDatabaseFailover(ctx: RestoreContext, target: DrillTarget, hooks: FailoverHooks = {}): Promise<FailoverMeasurement> {
  const name = failoverDatabase(ctx.config, ctx.drill.database);
  const db = openHaDatabase(ctx.config, name);
  const schema = drillSchema(ctx.runId);
  const table = qualified(schema, 'writes');
  const run: Run = { ctx, hooks, db, mode: failoverMode(ctx.drill), table, writer: new SequenceWriter(db.topology.members.map((m) => ({ name: m.name, endpoint: m.endpoint })), table) };
  try {
    const before = await ctx.timeline.step('check', name, () => waitForCluster(db, (v) => v.problems.length === 0, CHECK_MS, 'the cluster whole (a writable leader, every member streaming from it)', ctx.signal),
      (v) => `leader ${v.leader}; ${db.topology.synchronousMode ? `synchronous set [${v.sync?.join(', ')}]` : 'asynchronous'}`);
    await ctx.journal.add({ kind: 'pg-schema', database: name, schema });
    await ctx.timeline.step('prepare', name, () => createTable(db, before.leader!, schema, table, ctx.signal), () => `${table} on ${before.leader}`);
    return await measure(run, before.leader!, target);
  } finally {
    await run.writer.stop();
    await teardown(ctx, name);
    await db.close();
  }
}

async function createTable(db: HaDb, leader: string, schema: string, table: string, signal?: AbortSignal): Promise<void> {
  const endpoint = db.topology.members.find((m) => m.name === leader)!.endpoint;
  await withClient(endpoint, { signal, timeoutMs: 30_000 }, async (c) => {
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.query(`CREATE TABLE ${table} (seq bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  });
}

async function measure(run: Run, from: string, target: DrillTarget): Promise<FailoverMeasurement> {
  const { ctx, db, writer } = run;
  writer.start();
  await ctx.timeline.step('warm-up', db.name, () => writer.until((a) => a.length >= WARMUP_ACKS, 60_000, ctx.signal), () => `${WARMUP_ACKS} writes acknowledged by ${from}`);
  await run.hooks.beforeFault?.(from);
  const fault = ctx.timeline.step(run.mode, from, () => (run.mode === 'kill' ? kill(run, from) : switchover(run)), (at) => faultDetail(run, from, at));
  const [faultAt] = await Promise.all([fault, run.hooks.withFault?.()]);
  const watch = new AbortController();
  const watched: Watched = {};
  const watching = watchLeader(db, from, watched, AbortSignal.any([watch.signal, ...(ctx.signal ? [ctx.signal] : [])]));
  try {
    await writer.until((a) => a.some((x) => x.member !== from), FAULT_MS, ctx.signal);
    const firstNew = writer.acks.find((x) => x.member !== from)!;
    await writer.until((a) => (a.at(-1)?.seq ?? 0) >= firstNew.seq + AFTER_ACKS, 60_000, ctx.signal);
  } finally {
    watch.abort();
    await watching;
    await writer.stop();
  }
  await run.hooks.afterFailover?.();
  const settled = await settle(run, from, faultAt);
  const present = await ctx.timeline.step('count', settled.leader, () => countOn(run, settled.leader), (p) => `${p?.size ?? '?'} rows on ${settled.leader}`).catch(() => undefined);
  const figures = failoverFigures({ faultAt, from, acks: writer.acks, unknown: writer.unknown, watched, present }, target);
  recordPhases(run, faultAt, figures);
  const m: FailoverMeasurement = {
    database: db.name, mode: run.mode, synchronous: db.topology.synchronousMode, from, ...figures,
    managerMs: await managerMeasure(db, figures.to), redundantAfterMs: settled.afterMs, problems: [...settled.problems], passed: false,
  };
  m.problems.push(...failoverProblems(m), ...(present ? [] : [`the writes on ${settled.leader} could not be counted: acknowledged writes lost unknown`]));
  m.passed = m.problems.length === 0 && present !== undefined && m.rto?.passed !== false && m.rpo?.passed !== false;
  return m;
}

async function switchover(run: Run): Promise<number> {
  const { db, ctx } = run;
  const written = await requestSwitchover({ etcd: db.etcd.client, keys: db.etcd.keys, topology: db.topology, signal: ctx.signal }, ctx.drill.to);
  return written.writtenAt;
}

async function kill(run: Run, from: string): Promise<number> {
  const { db, ctx } = run;
  const postmaster = await localPostmaster(db, from, ctx.signal);
  await ctx.journal.add({ kind: 'pg-rejoin', database: db.name, member: from });
  const at = performance.now();
  if (!(await killChecked(postmaster.pid, postmaster.startTicks, 'SIGKILL', 0))) throw new BulwarkError('BACKEND_UNAVAILABLE', `${from}'s postmaster (pid ${postmaster.pid}) exited before the drill killed it`);
  return at;
}

function faultDetail(run: Run, from: string, _at: number): string {
  return run.mode === 'kill' ? `SIGKILL to ${from}'s postmaster` : `switchover requested from ${from}${run.ctx.drill.to ? ` to ${run.ctx.drill.to}` : ' (the leader picks its best standby)'}`;
}

/**
 * Polls the leader key and the new leader's PostgreSQL: PostgreSQL announces nothing when it
 * leaves recovery. One connection per member, kept: a new connection every 50 ms to a server
 * that is promoting would load it and lengthen what is measured.
 */
async function watchLeader(db: HaDb, from: string, w: Watched, signal: AbortSignal): Promise<void> {
  const clients = new Map<string, pg.Client>();
  try {
    while (!signal.aborted && w.writableAt === undefined) {
      try {
        const { kv } = await db.etcd.client.get(db.etcd.keys.leader, { signal, timeoutMs: 1000 });
        if (kv?.value !== from) w.keyLeftAt ??= performance.now();
        const member = db.topology.members.find((m) => m.name === kv?.value && kv.value !== from);
        if (member && (await outOfRecovery(clients, member))) {
          w.writableAt = performance.now();
          w.newLeader = member.name;
        }
      } catch {
        // etcd or the new leader not answering yet: look again
      }
      await sleep(WATCH_POLL_MS, signal).catch(() => undefined);
    }
  } finally {
    for (const c of clients.values()) await c.end().catch(() => undefined);
  }
}

async function outOfRecovery(clients: Map<string, pg.Client>, member: { name: string; endpoint: PgTarget }): Promise<boolean> {
  let client = clients.get(member.name);
  if (!client) {
    client = new pg.Client({ ...member.endpoint, database: member.endpoint.database ?? 'postgres', connectionTimeoutMillis: 1000, query_timeout: 1000, application_name: 'bulwark-drill-watch' });
    client.on('error', () => undefined);
    clients.set(member.name, client);
    await client.connect().catch((err: unknown) => {
      clients.delete(member.name);
      void client!.end().catch(() => undefined);
      throw err;
    });
  }
  try {
    return (await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r === false;
  } catch (err) {
    clients.delete(member.name);
    await client.end().catch(() => undefined);
    throw err;
  }
}

/** The cluster whole again: the old primary streams from the new leader. The revert of a kill happens here, by the HA loop. */
async function settle(run: Run, from: string, faultAt: number): Promise<{ leader: string; afterMs?: number; problems: string[] }> {
  const { ctx, db } = run;
  try {
    const view: ClusterView = await ctx.timeline.step('settle', from, () => waitForCluster(db, (v) => v.problems.length === 0 && v.leader !== from, SETTLE_MS, `${from} streaming from the new leader`, ctx.signal),
      (v) => `${from} streams from ${v.leader}${db.topology.synchronousMode ? `, synchronous set [${v.sync?.join(', ')}]` : ''}`);
    if (run.mode === 'kill') await ctx.journal.remove((e) => e.kind === 'pg-rejoin' && e.member === from);
    return { leader: view.leader!, afterMs: Math.round(performance.now() - faultAt), problems: [] };
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    const leader = (await waitForCluster(db, (v) => v.leader !== undefined, 30_000, 'a leader', ctx.signal)).leader!;
    return { leader, problems: [`the cluster did not come back whole: ${errorMessage(err)}`] };
  }
}

async function countOn(run: Run, leader: string): Promise<Set<number>> {
  return presentSeqs(run.db.topology.members.find((m) => m.name === leader)!.endpoint, run.table, 30_000);
}

function recordPhases(run: Run, faultAt: number, f: ReturnType<typeof failoverFigures>): void {
  const wall = (at: number) => Math.round(performance.timeOrigin + at);
  let at = faultAt;
  const phases = [['detect', f.phasesMs.detection, 'the leader key left the old primary'], ['promote', f.phasesMs.promotion, `${f.to ?? '?'} answers as a writable primary`], ['first-write', f.phasesMs.firstWrite, `first write acknowledged by ${f.to ?? '?'}`]] as const;
  for (const [step, ms, detail] of phases) {
    if (ms === undefined) continue;
    run.ctx.timeline.record({ step, subject: run.db.name, startedAt: wall(at), durationMs: Math.round(ms), ok: true, detail });
    at += ms;
  }
}

/** The new leader's own measure, from its history entry; undefined when it wrote none yet. */
async function managerMeasure(db: HaDb, to: string | undefined): Promise<number | undefined> {
  if (to === undefined) return undefined;
  const state = await readHaState(db.etcd.client, db.etcd.keys, [], { timeoutMs: 2000 }, { requests: false }).catch(() => undefined);
  return state?.history?.value.findLast((e) => e.to === to)?.durationMs;
}

/** Always: the writer's schema dropped, a killed member back in the cluster. What cannot be reverted stays journalled. */
async function teardown(ctx: RestoreContext, database: string): Promise<void> {
  const mine = ctx.journal.pending.filter((e): e is Extract<typeof e, { kind: 'pg-schema' | 'pg-rejoin' }> => (e.kind === 'pg-schema' || e.kind === 'pg-rejoin') && e.database === database);
  for (const entry of [...mine].reverse()) {
    await ctx.timeline.step('teardown', database, async () => {
      const detail = await revertDatabaseEntry(entry, { config: ctx.config, waitMs: TEARDOWN_WAIT_MS });
      await ctx.journal.remove((e) => JSON.stringify(e) === JSON.stringify(entry));
      return detail;
    }, (d) => d).catch(() => undefined);
  }
}
