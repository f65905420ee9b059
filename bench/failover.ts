/**
 * PostgreSQL failover and switchover benchmark: one HaCluster (3 etcd, 3 PostgreSQL, 3
 * MemberManagers in this process, loopback) in synchronous mode with Bulwark's default HA
 * timings (`databases.*.postgres.ttl` 10 s, `loop_wait` 2 s), a client inserting one row per
 * autocommit transaction into whichever member is writable, and in one run:
 *
 *  - failover trials: SIGKILL of the current primary's postmaster. Failover time is the client's
 *    last acknowledged insert on the old primary → its first on the new one (also kill → first new
 *    ack). Acknowledged inserts missing from the new primary are lost writes. The old primary then
 *    rejoins by itself (pg_rewind); the next trial starts once it streams from the new leader and
 *    is back in the recorded synchronous set, and kills whoever is primary then.
 *  - switchover trials: a SwitchoverRequest under the same load, alternately with no target and
 *    naming one. Write pause as above, the longest gap between consecutive acknowledgements, lost
 *    writes; the next trial starts once the old primary streams from the new one again.
 *
 * Per trial also: write transactions a primary acknowledged with no synchronous standby (goal 0: a new
 * primary starts with the other members as synchronous standbys), from the managers' own accounting.
 *
 * Each trial writes into a fresh table with a fresh FailoverWriter (its sequence restarts at 1).
 * Prints n, p50, p95, max (nearest rank) of the pauses, lost writes, rejoin times and the goals.
 *
 *   npx tsx bench/failover.ts [--trials 20] [--failovers N] [--switchovers N] [--json] [--log FILE]
 *
 * --trials sets both counts; --failovers / --switchovers override one. --log: where the cluster's
 * log goes (JSON lines; default a file in the temp dir, named on stderr). Progress goes to stderr.
 * Exit status: 1 when an acknowledged write was lost, 2 when a trial failed or the run was aborted.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sleep } from '../src/core/time.js';
import { databaseKeys, REQUEST_TTL_SECONDS, type HistoryEntry, type MemberRecord, type SwitchoverRequest } from '../src/postgres-ha/keys.js';
import type { MemberManager } from '../src/postgres-ha/member-manager.js';
import { queryRows } from '../src/postgres-ha/pg-query.js';
import { SequenceWriter as FailoverWriter, type Ack } from '../src/drills/sequence-writer.js';
import { HaCluster, waitUntil, waitUntilAsync } from '../src/postgres-ha/testing/ha-cluster.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' }, failovers: { type: 'string' }, switchovers: { type: 'string' },
    json: { type: 'boolean', default: false }, log: { type: 'string' },
  },
});
const FAILOVERS = Number(values.failovers ?? values.trials);
const SWITCHOVERS = Number(values.switchovers ?? values.trials);
const LOG_FILE = values.log ?? join(tmpdir(), `bulwark-bench-failover-${Date.now()}.jsonl`);
/** Bulwark's defaults for databases.*.postgres (src/config/schema.ts: ttl 10s, loop_wait 2s), passed explicitly. */
const TTL_SECONDS = 10;
const LOOP_WAIT_MS = 2000;
/** Acknowledged inserts before the fault, and on the new primary before counting lost writes. */
const WARMUP_ACKS = 200;
const AFTER_ACKS = 100;
const GOALS = { failoverP95Ms: 10_000, switchoverPauseMs: 3000 };
const keys = databaseKeys('main-db'); // HaCluster's database
const log = (line: string) => process.stderr.write(`${line}\n`);

interface TrialBase {
  kind: 'failover' | 'switchover';
  n: number;
  ok: boolean;
  error?: string;
  stage: string;
  from: string;
  /** The member the client's first acknowledgement after the fault came from. */
  to?: string;
  /** Last ack on the old primary → first ack on the new one. */
  pauseMs?: number;
  /** Measured by the new leader (leader gone or handover start → accepting writes), from its 'history' event. */
  managerMs?: number;
  acks: number;
  /** Sent but never acknowledged (cut by the fault): may or may not have committed. */
  unknown: number;
  /** Acknowledged inserts missing from the new primary; undefined when it could not be checked. */
  lost?: number;
  lostSeqs?: number[];
  /** The last sequence number acknowledged by the old primary. */
  lastOldSeq?: number;
  /** Fault (kill or request) → old primary streaming from the new leader and back in the synchronous set. */
  redundantAfterMs?: number;
  /** Write transactions a primary took with an empty synchronous_standby_names during the trial (the managers' 'withoutStandby' events). */
  aloneCommits?: number;
  aloneMs?: number;
  anomalies: string[];
  logFrom: number;
}

interface FailoverTrial extends TrialBase {
  kind: 'failover';
  killToNewMs?: number;
  /** Kill → last ack on the old primary (negative: the last ack came before the kill). */
  lastOldAfterKillMs?: number;
  /** The first 'rejoined' event of the old primary. */
  rejoin?: { method: string; durationMs: number; detail: string };
  /** 'rejoined' events of any member until the cluster was back to full redundancy (1, the old primary's, when all went well). */
  rejoins?: number;
}

interface SwitchoverTrial extends TrialBase {
  kind: 'switchover';
  requestedTo: string | undefined;
  requestToNewMs?: number;
  longestGapMs?: number;
  /** The old leader's own measure: fast shutdown → started again as a replica ('handover' event). */
  handoverMs?: number;
}

type Trial = FailoverTrial | SwitchoverTrial;

let cluster: HaCluster | undefined;
let clusterStarting: Promise<HaCluster> | undefined;
let writer: FailoverWriter | undefined;
let interrupted = false;
let stopping: Promise<void> | undefined;
/** Acknowledged sequence numbers of each trial (kept out of the JSON). */
const ackedOf = new Map<Trial, { table: string; seqs: number[] }>();

// ---------------------------------------------------------------- helpers

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Nearest-rank percentile. */
function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

/** Every capture's off(), run when its trial ends however it ends. */
const listeners: Array<() => void> = [];

/** Events a member manager emits, from now until off(): the first kept as `value`, all in `all` (a listener that never rejects). */
function capture<T>(subscribe: (fn: (v: T) => void) => () => void): { value: T | undefined; all: T[]; off: () => void; get: () => T | undefined } {
  const cap = { value: undefined as T | undefined, all: [] as T[], off: () => undefined as void, get: (): T | undefined => cap.value };
  cap.off = subscribe((v) => {
    cap.all.push(v);
    cap.value ??= v;
  });
  listeners.push(cap.off);
  return cap;
}

/** 'rejoined' events of every member, with the member's name. */
function onRejoined(c: HaCluster) {
  return capture<{ member: string; method: string; durationMs: number; detail: string }>((fn) => {
    const offs = c.members.map((m) => {
      const listener = (info: { method: string; durationMs: number; detail: string }) => fn({ member: m.name, ...info });
      m.manager.on('rejoined', listener);
      return () => m.manager.off('rejoined', listener);
    });
    return () => { for (const off of offs) off(); };
  });
}

/**
 * Repair work a trial should not have needed: rejoins beyond `expected` (the killed primary's one) and
 * replicas restarted by the stalled-replica watchdog (their WAL went past the new leader's fork point).
 */
function extraRepairs(c: HaCluster, t: Trial, rejoins: readonly { member: string; method: string; detail: string }[], expected: string | undefined): string | undefined {
  const stalls = c.log.lines.slice(t.logFrom).filter((l) => String(l.msg).startsWith('not streaming from the leader')).map((l) => String(l.member));
  const extra = expected === undefined ? rejoins : rejoins.filter((r, i) => !(r.member === expected && rejoins.findIndex((x) => x.member === expected) === i));
  if (extra.length === 0 && stalls.length === 0) return undefined;
  return `repairs beyond the expected: stalled-replica restarts of [${stalls.join(', ')}]; rejoins ${rejoins.map((r) => `${r.member} ${r.method} (${r.detail})`).join(', then ')}`;
}

function onHandover(m: MemberManager) {
  return capture<{ to: string | undefined; ok: boolean; detail: string; pauseMs: number }>((fn) => {
    m.on('handover', fn);
    return () => m.off('handover', fn);
  });
}

/** The first 'history' entry any other member emits (it promoted). */
function onHistory(c: HaCluster, except: string) {
  return capture<HistoryEntry>((fn) => {
    const ms = c.members.filter((m) => m.name !== except).map((m) => m.manager);
    for (const m of ms) m.on('history', fn);
    return () => { for (const m of ms) m.off('history', fn); };
  });
}

/** Why the cluster is not back to full redundancy, or its leader when it is. */
async function health(c: HaCluster): Promise<{ leader: string } | { problem: string }> {
  const leader = await c.leader();
  if (leader === undefined) return { problem: 'no leader key' };
  const writable = await c.writable(1000);
  if (writable.length !== 1 || writable[0] !== leader) return { problem: `leader ${leader}, writable [${writable.join(', ')}]` };
  const others = c.members.map((m) => m.name).filter((n) => n !== leader).sort();
  for (const o of others) {
    if (!(await c.streamingFrom(o, leader).catch(() => false))) return { problem: `${o} not streaming from ${leader}` };
  }
  const sync = await c.syncRecord();
  if (sync?.leader !== leader || [...sync.members].sort().join() !== others.join()) return { problem: `sync record ${JSON.stringify(sync)}, want ${leader}: [${others.join(', ')}]` };
  if ((await c.etcdClient.get(keys.switchover)).kv) return { problem: 'a switchover request is still pending' };
  for (const m of c.members) {
    if (m.manager.isFenced) return { problem: `${m.name} is fenced` };
    const kv = (await c.etcdClient.get(keys.member(m.name))).kv;
    const rec = kv ? (JSON.parse(kv.value) as MemberRecord) : undefined;
    if (!rec || rec.fenced || rec.role !== (m.name === leader ? 'primary' : 'replica')) return { problem: `member key of ${m.name}: ${kv?.value ?? 'missing'}` };
  }
  return { leader };
}

async function waitHealthy(c: HaCluster, timeoutMs: number): Promise<string> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const h = await health(c).catch((err: unknown) => ({ problem: errorText(err) }));
    if ('leader' in h) return h.leader;
    if (performance.now() > until || interrupted) throw new Error(`cluster not back to full redundancy within ${timeoutMs / 1000} s: ${h.problem}`);
    await sleep(100);
  }
}

function formatLine(l: Record<string, unknown>): string {
  const { level, time, msg, member, component: _c, pid: _p, hostname: _h, ...rest } = l;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const lvl = ({ 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' } as Record<number, string>)[Number(level)] ?? String(level);
  return `${t} ${lvl} ${String(member ?? '-')} ${String(msg)} ${Object.keys(rest).length ? JSON.stringify(rest) : ''}`;
}

function logExcerpt(c: HaCluster, from: number, max = 40): string {
  return c.log.lines.slice(from).slice(-max).map((l) => `    ${formatLine(l)}`).join('\n');
}

async function createTable(c: HaCluster, leader: string, table: string): Promise<void> {
  await queryRows(c.member(leader).pg.endpoint, `CREATE TABLE ${table} (seq int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())`, [], { timeoutMs: 10_000 });
}

function firstNewLastOld(acks: readonly Ack[], from: string): { firstNew: Ack; lastOld: Ack | undefined } {
  const firstNew = acks.find((a) => a.member !== from);
  if (!firstNew) throw new Error('no acknowledgement from a new primary');
  return { firstNew, lastOld: acks.findLast((a) => a.member === from && a.seq < firstNew.seq) };
}

function longestGap(acks: readonly Ack[]): number {
  let worst = 0;
  for (let i = 1; i < acks.length; i++) worst = Math.max(worst, (acks[i]?.at ?? 0) - (acks[i - 1]?.at ?? 0));
  return worst;
}

// ---------------------------------------------------------------- trials

async function failoverTrial(c: HaCluster, t: FailoverTrial): Promise<void> {
  const old = c.member(t.from);
  const table = `t_failover_${t.n}`;
  t.stage = 'create table';
  await createTable(c, t.from, table);
  const rejoined = onRejoined(c);
  const history = onHistory(c, t.from);
  const w = (writer = new FailoverWriter(c.targets(), table));
  let killedAt: number;
  try {
    w.start();
    t.stage = 'warm-up';
    await w.until((a) => a.length >= WARMUP_ACKS, 30_000);
    t.stage = 'kill → first ack on a new primary';
    killedAt = performance.now();
    await old.pg.kill('SIGKILL');
    await w.until((a) => a.some((x) => x.member !== t.from), 60_000);
    const { firstNew, lastOld } = firstNewLastOld(w.acks, t.from);
    t.to = firstNew.member;
    t.lastOldSeq = lastOld?.seq;
    t.pauseMs = firstNew.at - (lastOld?.at ?? killedAt);
    t.killToNewMs = firstNew.at - killedAt;
    t.lastOldAfterKillMs = lastOld ? lastOld.at - killedAt : undefined;
    t.stage = `${AFTER_ACKS} acks on the new primary`;
    await w.until((a) => (a.at(-1)?.seq ?? 0) >= firstNew.seq + AFTER_ACKS, 30_000);
  } finally {
    await w.stop();
    writer = undefined;
    t.acks = w.acks.length;
    t.unknown = w.unknown.length;
    ackedOf.set(t, { table, seqs: w.acks.map((a) => a.seq) });
  }
  const seqs = ackedOf.get(t)?.seqs ?? [];
  t.stage = 'count lost writes';
  const to = t.to ?? '';
  const missing = await c.missingSeqs(to, seqs, table);
  t.lost = missing.length;
  if (missing.length) t.lostSeqs = missing.slice(0, 50);
  if (w.acks.some((a) => a.member !== t.from && a.member !== to)) t.anomalies.push('acknowledgements from more than one new primary');
  const leader = await c.leader();
  if (leader !== to) t.anomalies.push(`leader key names ${leader}, the client wrote to ${to}`);
  await waitUntil(() => history.value !== undefined, 15_000, "the new leader's 'history' event")
    .catch((err: unknown) => t.anomalies.push(errorText(err)))
    .finally(() => history.off());
  t.managerMs = history.get()?.durationMs;
  t.stage = `${t.from} rejoins`;
  const mine = () => rejoined.all.find((r) => r.member === t.from);
  try {
    await waitUntil(() => mine() !== undefined, 90_000, `${t.from}'s 'rejoined' event`);
    const { member: _m, ...info } = mine() ?? { member: '', method: '?', durationMs: Number.NaN, detail: '' };
    t.rejoin = info;
    t.stage = 'back to full redundancy';
    await waitHealthy(c, 60_000);
    t.redundantAfterMs = performance.now() - killedAt;
  } finally {
    rejoined.off();
    t.rejoins = rejoined.all.length;
  }
  const extra = extraRepairs(c, t, rejoined.all, t.from);
  if (extra) t.anomalies.push(extra);
  t.stage = `${t.from} replays every acknowledged insert`;
  await waitUntilAsync(async () => (await c.missingSeqs(t.from, seqs, table)).length === 0, 15_000, 'the rejoined member to hold every acknowledged insert')
    .catch((err: unknown) => t.anomalies.push(`rejoined ${t.from}: ${errorText(err)}`));
}

async function switchoverTrial(c: HaCluster, t: SwitchoverTrial): Promise<void> {
  const old = c.member(t.from);
  const table = `t_switchover_${t.n}`;
  t.stage = 'create table';
  await createTable(c, t.from, table);
  const handover = onHandover(old.manager);
  const history = onHistory(c, t.from);
  const rejoined = onRejoined(c);
  const w = (writer = new FailoverWriter(c.targets(), table));
  let requestedAt: number;
  try {
    w.start();
    t.stage = 'warm-up';
    await w.until((a) => a.length >= WARMUP_ACKS, 30_000);
    t.stage = 'request → first ack on the new primary';
    const request: SwitchoverRequest = { from: t.from, ...(t.requestedTo ? { to: t.requestedTo } : {}), requestedAt: new Date().toISOString() };
    requestedAt = performance.now();
    const lease = await c.etcdClient.grantLease(REQUEST_TTL_SECONDS, { timeoutMs: 5000 });
    const put = await c.etcdClient.createIfAbsent(keys.switchover, JSON.stringify(request), lease.id, { timeoutMs: 5000 });
    if (!put.succeeded) throw new Error('a switchover request was already pending');
    await waitUntil(() => w.acks.some((x) => x.member !== t.from) || handover.value?.ok === false, 30_000, 'an ack from the new primary');
    if (handover.value?.ok === false) throw new Error(`switchover refused by ${t.from}: ${handover.value.detail}`);
    const { firstNew, lastOld } = firstNewLastOld(w.acks, t.from);
    t.to = firstNew.member;
    t.lastOldSeq = lastOld?.seq;
    t.pauseMs = firstNew.at - (lastOld?.at ?? requestedAt);
    t.requestToNewMs = firstNew.at - requestedAt;
    if (t.requestedTo && t.to !== t.requestedTo) t.anomalies.push(`asked for ${t.requestedTo}, got ${t.to}`);
    t.stage = `${AFTER_ACKS} acks on the new primary`;
    await w.until((a) => (a.at(-1)?.seq ?? 0) >= firstNew.seq + AFTER_ACKS, 30_000);
  } finally {
    await w.stop();
    writer = undefined;
    t.acks = w.acks.length;
    t.unknown = w.unknown.length;
    ackedOf.set(t, { table, seqs: w.acks.map((a) => a.seq) });
  }
  t.longestGapMs = longestGap(w.acks);
  const to = t.to ?? '';
  t.stage = 'count lost writes';
  const missing = await c.missingSeqs(to, ackedOf.get(t)?.seqs ?? [], table);
  t.lost = missing.length;
  if (missing.length) t.lostSeqs = missing.slice(0, 50);
  if (w.acks.some((a) => a.member !== t.from && a.member !== to)) t.anomalies.push('acknowledgements from more than one new primary');
  const leader = await c.leader();
  if (leader !== to) t.anomalies.push(`leader key names ${leader}, the client wrote to ${to}`);
  await waitUntil(() => history.value !== undefined, 15_000, "the new leader's 'history' event")
    .catch((err: unknown) => t.anomalies.push(errorText(err)))
    .finally(() => history.off());
  t.managerMs = history.get()?.durationMs;
  t.stage = `${t.from}'s handover event`;
  try {
    await waitUntil(() => handover.value !== undefined, 30_000, `${t.from}'s 'handover' event`);
  } finally {
    handover.off();
  }
  const done = handover.get();
  t.handoverMs = done?.pauseMs;
  if (done?.ok === false) t.anomalies.push(`handover reported failure: ${done.detail}`);
  if (done?.ok && done.to !== t.to) t.anomalies.push(`${t.from} handed over to ${done.to}, but ${t.to} took over`);
  t.stage = 'back to full redundancy';
  try {
    await waitHealthy(c, 60_000);
    t.redundantAfterMs = performance.now() - requestedAt;
  } finally {
    rejoined.off();
  }
  // The old leader restarts as a replica by itself (no 'rejoined' event): any rejoin is a repair.
  const extra = extraRepairs(c, t, rejoined.all, undefined);
  if (extra) t.anomalies.push(extra);
}

function describe(t: Trial): string {
  const s = (ms: number | undefined) => (ms === undefined ? '?' : `${(ms / 1000).toFixed(2)} s`);
  const head = `${t.kind} ${t.n}: ${t.from} → ${t.to ?? '?'}`;
  if (!t.ok) return `${head} FAILED at "${t.stage}": ${t.error}`;
  const lost = t.lostSeqs?.length ? ` (seqs ${t.lostSeqs.join(', ')}; last ack on ${t.from}: seq ${t.lastOldSeq ?? '?'})` : '';
  const tail = `lost ${t.lost ?? '?'}${lost}, unknown ${t.unknown}, acknowledged without a synchronous standby ${t.aloneCommits ?? '?'} (${s(t.aloneMs)}), redundant after ${s(t.redundantAfterMs)}${t.anomalies.length ? `; ANOMALIES: ${t.anomalies.join('; ')}` : ''}`;
  if (t.kind === 'failover') {
    return `${head}: pause ${s(t.pauseMs)} (kill → new ack ${s(t.killToNewMs)}, manager ${s(t.managerMs)}), ${tail}, rejoin ${t.rejoin?.method} ${s(t.rejoin?.durationMs)}`;
  }
  return `${head}${t.requestedTo ? ' (named)' : ''}: pause ${s(t.pauseMs)} (longest gap ${s(t.longestGapMs)}, request → new ack ${s(t.requestToNewMs)}, handover ${s(t.handoverMs)}), ${tail}`;
}

/** Time and write transactions any primary ran without a synchronous standby, summed. */
function onWithoutStandby(c: HaCluster) {
  return capture<{ ms: number; transactions: number }>((fn) => {
    const ms = c.members.map((m) => m.manager);
    for (const m of ms) m.on('withoutStandby', fn);
    return () => { for (const m of ms) m.off('withoutStandby', fn); };
  });
}

async function runTrial<T extends Trial>(c: HaCluster, t: T, body: (c: HaCluster, t: T) => Promise<void>): Promise<T> {
  const alone = onWithoutStandby(c);
  try {
    await body(c, t);
    t.ok = true;
  } catch (err) {
    t.ok = false;
    t.error = errorText(err);
  } finally {
    t.aloneCommits = alone.all.reduce((a, x) => a + x.transactions, 0);
    t.aloneMs = alone.all.reduce((a, x) => a + x.ms, 0);
    for (const off of listeners.splice(0)) off();
  }
  if (!t.ok || (t.lost ?? 0) > 0 || t.anomalies.length > 0) log(`${describe(t)}\n  log of this trial (last 40 lines):\n${logExcerpt(c, t.logFrom)}`);
  else log(describe(t));
  return t;
}

/** After a failed trial: wait for the cluster to recover, then check the trial's acknowledged writes against whoever leads. */
async function recoverAfterFailure(c: HaCluster, t: Trial): Promise<void> {
  const leader = await waitHealthy(c, 120_000);
  const acked = ackedOf.get(t);
  if (t.lost === undefined && acked && acked.seqs.length > 0) {
    const missing = await c.missingSeqs(leader, acked.seqs, acked.table);
    t.lost = missing.length;
    if (missing.length) t.lostSeqs = missing.slice(0, 50);
    log(`  after recovery, ${leader} leads; acknowledged inserts of the failed trial missing there: ${missing.length}`);
  }
}

// ---------------------------------------------------------------- report

/** Distribution of one measure over the trials that completed. */
interface Dist {
  n: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  valuesMs: number[];
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

function dist<T extends Trial>(trials: readonly T[], pick: (t: T) => number | undefined): Dist {
  const xs = trials.filter((t) => t.ok).map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
  return { n: xs.length, p50Ms: round1(pct(xs, 50)), p95Ms: round1(pct(xs, 95)), maxMs: round1(xs.length ? Math.max(...xs) : Number.NaN), valuesMs: xs.map(round1) };
}

function totals(trials: readonly Trial[]) {
  return {
    trials: trials.length, failed: trials.filter((t) => !t.ok).length, acknowledged: trials.reduce((a, t) => a + t.acks, 0),
    lost: trials.reduce((a, t) => a + (t.lost ?? 0), 0), unacknowledged: trials.reduce((a, t) => a + t.unknown, 0),
    alone: trials.reduce((a, t) => a + (t.aloneCommits ?? 0), 0),
  };
}

function printReport(r: ReturnType<typeof results>): void {
  const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x).toLocaleString('en-US')} ms` : '–');
  const row = (name: string, d: Dist) => `| ${name} | ${d.n} | ${ms(d.p50Ms)} | ${ms(d.p95Ms)} | ${ms(d.maxMs)} |`;
  const f = r.failover;
  const w = r.switchover;
  const methods = Object.entries(f.rejoinMethods).map(([m, n]) => `${m} ×${n}`).join(', ') || '–';
  const count = (name: string, x: ReturnType<typeof totals>) => `| ${name} | ${x.trials} | ${x.failed} | ${x.acknowledged.toLocaleString('en-US')} | **${x.lost}** | ${x.unacknowledged} | ${x.alone} |`;
  const lines = [
    '',
    `PostgreSQL failover and switchover: 3 etcd ${r.machine.etcd} + 3 PostgreSQL ${r.machine.postgres} + 3 managers in one process, loopback; synchronous mode (ANY 1), ttl ${TTL_SECONDS} s, loop_wait ${LOOP_WAIT_MS / 1000} s`,
    `${r.machine.cpus} cores, load average ${r.machine.loadBefore} before, ${r.machine.loadAfter} after; run time ${(r.runSeconds / 60).toFixed(1)} min; nearest-rank percentiles over completed trials`,
    '',
    '| measure | n | p50 | p95 | max |',
    '|---|---|---|---|---|',
    row('failover: last ack on old primary → first ack on new', f.pause),
    row('failover: kill → first ack on new', f.killToNew),
    row('failover: new leader\'s own measure (key free → writable)', f.manager),
    row(`failover: old primary's rejoin (${methods})`, f.rejoin),
    row(`failover: kill → old primary streaming and in the sync set (${f.extraRepairs} needed another repair)`, f.redundant),
    row('failover: time a primary ran without a synchronous standby', f.aloneTime),
    row('switchover: last ack on old primary → first ack on new', w.pause),
    row('switchover: longest gap between consecutive acks', w.longestGap),
    row('switchover: request → first ack on new', w.requestToNew),
    row('switchover: old leader\'s handover (shutdown → replica)', w.handover),
    row(`switchover: request → old primary streaming and in the sync set (${w.extraRepairs} needed a repair)`, w.redundant),
    '',
    '| | trials | failed | acknowledged writes | lost | unacknowledged (cut by the fault) | acknowledged without a synchronous standby |',
    '|---|---|---|---|---|---|---|',
    count('failover', f),
    count('switchover', w),
    '',
    'Goals and anchors:',
    ...r.goals.map((g) => `  ${g.met === null ? '  n/a  ' : g.met ? '  met  ' : 'NOT MET'} ${g.name}: ${g.value}`),
    '  anchor: Patroni with its defaults (ttl 30 s, loop_wait 10 s) takes about 30–40 s to fail over; CloudNativePG targets < 10 s',
  ];
  if (r.anomalies.length) lines.push('', 'Anomalies:', ...r.anomalies.map((a) => `  ${a}`));
  if (r.aborted) lines.push('', `ABORTED: ${r.aborted}`);
  lines.push('', `cluster log: ${LOG_FILE}`);
  console.log(lines.join('\n'));
}

const trials: Trial[] = [];
let aborted: string | undefined;
let machine = { cpus: cpus().length, node: process.version, postgres: '?', etcd: '?', loadBefore: Number(loadavg()[0]?.toFixed(2)), loadAfter: Number.NaN };
const runStarted = performance.now();

function results() {
  const fo = trials.filter((t): t is FailoverTrial => t.kind === 'failover');
  const so = trials.filter((t): t is SwitchoverTrial => t.kind === 'switchover');
  const strip = ({ logFrom: _l, stage: _s, ...t }: Trial) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === 'number' && k.endsWith('Ms') ? round1(v) : v]));
  const rejoinMethods: Record<string, number> = {};
  for (const t of fo) if (t.rejoin) rejoinMethods[t.rejoin.method] = (rejoinMethods[t.rejoin.method] ?? 0) + 1;
  const failover = {
    ...totals(fo), pause: dist(fo, (t) => t.pauseMs), killToNew: dist(fo, (t) => t.killToNewMs),
    manager: dist(fo, (t) => t.managerMs), rejoin: dist(fo, (t) => t.rejoin?.durationMs), rejoinMethods,
    extraRepairs: fo.filter((t) => t.anomalies.some((a) => a.startsWith('repairs beyond'))).length,
    redundant: dist(fo, (t) => t.redundantAfterMs), aloneTime: dist(fo, (t) => t.aloneMs),
  };
  const switchover = {
    ...totals(so), pause: dist(so, (t) => t.pauseMs), longestGap: dist(so, (t) => t.longestGapMs),
    requestToNew: dist(so, (t) => t.requestToNewMs), handover: dist(so, (t) => t.handoverMs), manager: dist(so, (t) => t.managerMs),
    redundant: dist(so, (t) => t.redundantAfterMs), extraRepairs: so.filter((t) => t.anomalies.some((a) => a.startsWith('repairs beyond'))).length,
  };
  const lost = failover.lost + switchover.lost;
  const s = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : '–');
  const goals = [
    { name: `failover p95 ≤ ${GOALS.failoverP95Ms / 1000} s${failover.failed ? ` (${failover.failed} failed trials: not met)` : ''}`, value: s(failover.pause.p95Ms), met: fo.length ? failover.failed === 0 && failover.pause.p95Ms <= GOALS.failoverP95Ms : null },
    { name: `switchover pause p95 ≤ ${GOALS.switchoverPauseMs / 1000} s (max ${s(switchover.pause.maxMs)}${switchover.failed ? `; ${switchover.failed} failed trials: not met` : ''})`, value: s(switchover.pause.p95Ms), met: so.length ? switchover.failed === 0 && switchover.pause.p95Ms <= GOALS.switchoverPauseMs : null },
    { name: 'no acknowledged write lost (synchronous mode)', value: `${lost} lost`, met: trials.length ? lost === 0 : null },
    { name: 'no write acknowledged without a synchronous standby (a candidate reachable)', value: `${failover.alone + switchover.alone} transactions`, met: trials.length ? failover.alone + switchover.alone === 0 : null },
  ];
  const anomalies = trials.flatMap((t) => [...(t.ok ? [] : [`${t.kind} ${t.n} failed at "${t.stage}": ${t.error}`]), ...t.anomalies.map((a) => `${t.kind} ${t.n}: ${a}`)]);
  return {
    settings: { synchronousMode: true, ttlSeconds: TTL_SECONDS, loopWaitMs: LOOP_WAIT_MS, warmupAcks: WARMUP_ACKS, afterAcks: AFTER_ACKS, failovers: FAILOVERS, switchovers: SWITCHOVERS },
    machine, runSeconds: (performance.now() - runStarted) / 1000, failover, switchover, lost, goals, anomalies, aborted,
    trials: trials.map(strip),
  };
}

// ---------------------------------------------------------------- main

function writeLog(): void {
  if (!cluster) return;
  try {
    writeFileSync(LOG_FILE, cluster.log.lines.map((l) => JSON.stringify(l)).join('\n'));
  } catch (err) {
    log(`could not write the cluster log to ${LOG_FILE}: ${errorText(err)}`);
  }
}

/** Stops the writer and the cluster (PostgreSQL, managers, etcd, temp dirs); once. */
function cleanup(): Promise<void> {
  stopping ??= (async () => {
    await writer?.stop().catch(() => undefined);
    const c = cluster ?? (await Promise.race([clusterStarting?.catch(() => undefined), sleep(60_000).then(() => undefined)]));
    cluster = c;
    writeLog();
    await c?.stop().catch((err: unknown) => log(`cluster stop failed: ${errorText(err)}`));
  })();
  return stopping;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: stopping the cluster (again to exit at once)...`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  log(`starting 3 etcd + 3 PostgreSQL + 3 managers (synchronous mode, ttl ${TTL_SECONDS} s, loop_wait ${LOOP_WAIT_MS} ms)...`);
  clusterStarting = HaCluster.start({ synchronousMode: true, ttlSeconds: TTL_SECONDS, loopWaitMs: LOOP_WAIT_MS });
  const c = (cluster = await clusterStarting);
  const version = await queryRows<{ v: string }>(c.member('m1').pg.endpoint, "SELECT current_setting('server_version') AS v", [], { timeoutMs: 5000 }).catch(() => []);
  machine = { ...machine, postgres: version[0]?.v?.split(' ')[0] ?? '?' };
  try {
    machine.etcd = /etcd Version: (\S+)/.exec(execFileSync('etcd', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    // not on PATH under that name: EtcdCluster found it elsewhere
  }
  log(`started in ${((performance.now() - runStarted) / 1000).toFixed(1)} s; ${FAILOVERS} failover and ${SWITCHOVERS} switchover trials`);

  const plan: Array<'failover' | 'switchover'> = [...Array<'failover'>(FAILOVERS).fill('failover'), ...Array<'switchover'>(SWITCHOVERS).fill('switchover')];
  let count = { failover: 0, switchover: 0 };
  for (const kind of plan) {
    if (interrupted) break;
    let leader: string;
    try {
      leader = await waitHealthy(c, 120_000);
    } catch (err) {
      aborted = `before ${kind} ${count[kind] + 1}: ${errorText(err)}`;
      log(`ABORTING ${aborted}\n  last log lines:\n${logExcerpt(c, Math.max(0, c.log.lines.length - 60), 60)}`);
      break;
    }
    count = { ...count, [kind]: count[kind] + 1 };
    const n = count[kind];
    const base = { n, ok: false, stage: 'start', from: leader, acks: 0, unknown: 0, anomalies: [], logFrom: c.log.lines.length };
    let t: Trial;
    if (kind === 'failover') {
      t = await runTrial(c, { ...base, kind }, failoverTrial);
    } else {
      const replicas = c.members.map((m) => m.name).filter((x) => x !== leader).sort();
      // Odd trials: no target (the leader picks the most advanced standby); even: name one, alternating.
      const requestedTo = n % 2 === 1 ? undefined : replicas[(n / 2) % 2];
      t = await runTrial(c, { ...base, kind, requestedTo }, switchoverTrial);
    }
    if (interrupted) break; // the trial was cut by the cleanup, not by the cluster
    trials.push(t);
    if (!t.ok) {
      try {
        await recoverAfterFailure(c, t);
      } catch (err) {
        aborted = `after the failed ${kind} ${n}: ${errorText(err)}`;
        log(`ABORTING ${aborted}\n  last log lines:\n${logExcerpt(c, Math.max(0, c.log.lines.length - 60), 60)}`);
        break;
      }
    }
  }
  if (interrupted) aborted ??= 'interrupted; the trial under way is left out';
  machine.loadAfter = Number(loadavg()[0]?.toFixed(2));
  const r = results();
  if (values.json) console.log(JSON.stringify(r, null, 1));
  else printReport(r);
  if (r.lost > 0) return 1;
  if (aborted || trials.some((t) => !t.ok)) return 2;
  return 0;
}

let code = 2;
try {
  code = await main();
} catch (err) {
  log(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (cluster) log(`last log lines:\n${logExcerpt(cluster, Math.max(0, cluster.log.lines.length - 40))}`);
} finally {
  await cleanup();
  log(`cluster log written to ${LOG_FILE}`);
}
process.exit(interrupted ? 130 : code);
