/**
 * Shared pieces of the fault-injection tests (`*.ha.test.ts`): a split-brain
 * probe, direct inserts that must not succeed, the acknowledged-insert check,
 * and libpq's own multi-host failover through `psql`.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach } from 'vitest';
import { findPostgresBinDir } from '../bin-dir.js';
import { queryRows, type PgEndpoint } from '../pg-query.js';
import type { Ack, FailoverWriter } from './failover-writer.js';
import type { HaCluster } from './ha-cluster.js';

const execFileAsync = promisify(execFile);

/** What a fault test started; `faultSuite()` stops it after each test. */
export interface FaultEnv {
  cluster?: HaCluster | undefined;
  writer?: FailoverWriter | undefined;
  probe?: SplitBrainProbe | undefined;
}

/**
 * Registers the afterEach of a fault-test file: stops the probe, the writer and the cluster, saves the
 * log (HA_TEST_LOG_DIR), and on failure appends the log's tail to the error.
 */
export function faultSuite(): FaultEnv {
  const env: FaultEnv = {};
  afterEach(async (ctx) => {
    await env.probe?.stop();
    await env.writer?.stop();
    await saveLog(env.cluster, ctx.task.name);
    if (ctx.task.result?.state === 'fail' && env.cluster) {
      const tail = env.cluster.log.lines.slice(-80).map((l) => JSON.stringify(l)).join('\n');
      ctx.task.result.errors?.push({ name: 'log', message: tail } as never);
    }
    await env.cluster?.stop();
    env.cluster = undefined;
    env.writer = undefined;
    env.probe = undefined;
  });
  return env;
}

interface NoteContext {
  annotate: (message: string) => Promise<unknown>;
  task: { meta: object };
}

/** Records a measured line as an annotation and in the task's meta (`measured`), as the other HA tests do. */
export function noteFor(ctx: NoteContext): (text: string) => Promise<void> {
  const lines: string[] = [];
  return async (text: string) => {
    lines.push(text);
    (ctx.task.meta as Record<string, unknown>).measured = lines.join('\n');
    await ctx.annotate(text);
  };
}

/** Acknowledged inserts missing on `member`: must be none. */
export async function missingAcks(c: HaCluster, member: string, acks: readonly (Ack | number)[]): Promise<number[]> {
  return c.missingSeqs(member, acks.map((a) => (typeof a === 'number' ? a : a.seq)));
}

export interface ProbeSample {
  at: number;
  writable: string[];
  /** The leader key's value; `error` when etcd did not answer. */
  leader: string | undefined | 'error';
}

/**
 * Every `intervalMs` (100 by default): which members answer `pg_is_in_recovery() = false` on a
 * fresh connection (300 ms bound, so a frozen member costs one probe 300 ms), and the leader key.
 */
export class SplitBrainProbe {
  maxWritable = 0;
  samples = 0;
  /** Samples with two or more writable members. */
  readonly doubles: ProbeSample[] = [];
  /** Samples where the leader key or the writable set changed, in order. */
  readonly changes: ProbeSample[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly c: HaCluster, private readonly intervalMs = 100) {
    this.loop = this.run();
  }

  /** When the probe first saw the key held by someone other than `member` (or absent), after `since`. */
  keyLeft(member: string, since = 0): number | undefined {
    return this.changes.find((s) => s.at >= since && s.leader !== member && s.leader !== 'error')?.at;
  }

  /** When the probe first saw `member` writable after `since`. */
  writableAt(member: string, since = 0): number | undefined {
    return this.changes.find((s) => s.at >= since && s.writable.includes(member))?.at;
  }

  /** The most writable members seen in samples taken in [from, to]. */
  maxWritableBetween(from: number, to = Infinity): number {
    let max = 0;
    let current: ProbeSample | undefined;
    for (const s of this.changes) {
      if (s.at > to) break;
      if (s.at < from) {
        current = s;
        continue;
      }
      max = Math.max(max, s.writable.length);
    }
    return Math.max(max, current?.writable.length ?? 0);
  }

  /** The leader values seen in [from, to], in order, without repeats. */
  leadersBetween(from: number, to = Infinity): (string | undefined)[] {
    const out: (string | undefined)[] = [];
    for (const s of this.changes) {
      if (s.at < from || s.at > to || s.leader === 'error') continue;
      if (out.length === 0 || out[out.length - 1] !== s.leader) out.push(s.leader);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    let last = '';
    while (this.running) {
      const started = performance.now();
      const [writable, leader] = await Promise.all([this.c.writable(), this.c.leader().catch(() => 'error' as const)]);
      const sample: ProbeSample = { at: started, writable, leader };
      this.samples++;
      this.maxWritable = Math.max(this.maxWritable, writable.length);
      if (writable.length > 1) this.doubles.push(sample);
      const key = `${writable.join()}|${leader}`;
      if (key !== last) this.changes.push(sample);
      last = key;
      await new Promise((r) => setTimeout(r, Math.max(0, this.intervalMs - (performance.now() - started))));
    }
  }
}

export interface InsertOutcome {
  outcome: 'committed' | 'error' | 'no answer';
  detail: string;
  ms: number;
}

/**
 * One INSERT on `client` (or a fresh connection to `endpoint`), given `timeoutMs` to be
 * acknowledged. The statement is not cancelled on timeout; the connection is closed.
 */
export async function tryInsert(target: { endpoint: PgEndpoint } | { client: pg.Client }, seq: number, timeoutMs: number): Promise<InsertOutcome> {
  const started = performance.now();
  let client: pg.Client;
  if ('client' in target) {
    client = target.client;
  } else {
    client = new pg.Client({ ...target.endpoint, database: 'postgres', connectionTimeoutMillis: timeoutMs });
    client.on('error', () => undefined);
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<InsertOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'no answer', detail: `no answer within ${timeoutMs} ms`, ms: performance.now() - started }), timeoutMs);
  });
  const attempt = (async (): Promise<InsertOutcome> => {
    try {
      if (!('client' in target)) await client.connect();
      await client.query('INSERT INTO t (seq) VALUES ($1)', [seq]);
      return { outcome: 'committed', detail: 'INSERT acknowledged', ms: performance.now() - started };
    } catch (err) {
      return { outcome: 'error', detail: err instanceof Error ? err.message : String(err), ms: performance.now() - started };
    }
  })();
  try {
    return await Promise.race([attempt, expired]);
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => undefined);
  }
}

/** An open session on `endpoint` (for a write sent the instant a frozen member resumes). */
export async function openSession(endpoint: PgEndpoint): Promise<pg.Client> {
  const client = new pg.Client({ ...endpoint, database: 'postgres', connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Whether `seq` is in table t on `member`. */
export async function hasSeq(c: HaCluster, member: string, seq: number): Promise<boolean> {
  const rows = await queryRows<{ n: number }>(c.member(member).pg.endpoint, 'SELECT count(*)::int AS n FROM t WHERE seq = $1', [seq], { timeoutMs: 5000 });
  return (rows[0]?.n ?? 0) > 0;
}

/**
 * libpq's own failover: `psql` with a multi-host URL and target_session_attrs=read-write (node-postgres
 * has no multi-host support). Returns the cluster_name of the server it reached and psql's time.
 */
export async function psqlPrimary(c: HaCluster, options: { connectTimeoutSeconds?: number } = {}): Promise<{ member: string; ms: number; url: string }> {
  const binDir = await findPostgresBinDir();
  const endpoints = c.members.map((m) => m.pg.endpoint);
  const first = endpoints[0];
  if (!first) throw new Error('no members');
  const hosts = endpoints.map((e) => `${e.host}:${e.port}`).join(',');
  const url = `postgresql://${encodeURIComponent(first.user)}@${hosts}/postgres?target_session_attrs=read-write&connect_timeout=${options.connectTimeoutSeconds ?? 2}`;
  const started = performance.now();
  const { stdout } = await execFileAsync(join(binDir, 'psql'), [url, '-X', '-A', '-t', '-c', "SELECT current_setting('cluster_name') || ' ' || pg_is_in_recovery()::text"], {
    env: { ...process.env, PGPASSWORD: first.password, PGAPPNAME: 'bulwark-test-psql' }, timeout: 30_000,
  });
  const [member, recovery] = stdout.trim().split(' ');
  if (recovery !== 'false') throw new Error(`psql reached ${member}, which is in recovery`);
  return { member: member ?? '', ms: performance.now() - started, url: url.replace(/\/\/[^@]*@/, '//…@') };
}

export interface RoleWatch {
  /** Answers `pg_is_in_recovery() = false`, with when they were sent (performance.now()). */
  primaryAnswers: number[];
  answers: number;
  attempts: number;
}

/**
 * Asks `endpoint` on a fresh connection, again every `everyMs`, for `durationMs`, whether it is in
 * recovery: how long a thawed old primary still answers as a primary before it is fenced.
 */
export async function watchRole(endpoint: PgEndpoint, durationMs: number, everyMs = 10): Promise<RoleWatch> {
  const watch: RoleWatch = { primaryAnswers: [], answers: 0, attempts: 0 };
  const until = performance.now() + durationMs;
  const inFlight: Promise<void>[] = [];
  while (performance.now() < until) {
    const sentAt = performance.now();
    watch.attempts++;
    inFlight.push(queryRows<{ r: boolean }>(endpoint, 'SELECT pg_is_in_recovery() AS r', [], { timeoutMs: 1000 }).then((rows) => {
      watch.answers++;
      if (rows[0]?.r === false) watch.primaryAnswers.push(sentAt);
    }, () => undefined));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await Promise.all(inFlight);
  return watch;
}

/** With HA_TEST_LOG_DIR set, writes the cluster's whole log (every member, JSON lines) to `<dir>/<test>.jsonl`. */
export async function saveLog(c: HaCluster | undefined, testName: string): Promise<void> {
  const dir = process.env.HA_TEST_LOG_DIR;
  if (!dir || !c) return;
  await mkdir(dir, { recursive: true });
  const base = join(dir, testName.replace(/[^\w.-]+/g, '_').slice(0, 80));
  await writeFile(`${base}.jsonl`, c.log.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  for (const m of c.members) {
    const output = m.process ? await m.process.postgresOutput() : m.pg.recentOutput();
    if (output) await writeFile(`${base}.${m.name}.postgres.log`, output);
  }
}

/** The longest pause between consecutive acknowledgements in [from, to] (ms), and where it began. */
export function longestAckGap(acks: readonly Ack[], from: number, to = Infinity): { ms: number; after: number } {
  let best = { ms: 0, after: from };
  let prev = [...acks].reverse().find((a) => a.at < from)?.at ?? from;
  for (const a of acks) {
    if (a.at < from) continue;
    if (a.at > to) break;
    if (a.at - prev > best.ms) best = { ms: a.at - prev, after: prev };
    prev = a.at;
  }
  return best;
}

/** synchronous_standby_names on `member`, asked directly. */
export async function synchronousStandbyNames(c: HaCluster, member: string): Promise<string> {
  const rows = await queryRows<{ v: string }>(c.member(member).pg.endpoint, "SELECT current_setting('synchronous_standby_names') AS v", [], { timeoutMs: 3000 });
  return rows[0]?.v ?? '';
}

export { sleep } from '../../core/time.js';
