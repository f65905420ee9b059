/**
 * What a failover drill reads of a PostgreSQL HA database: the leader key and
 * the synchronous set in etcd, each member's PostgreSQL asked directly, and
 * whether the cluster is whole (one writable leader, every other member
 * streaming from it, in the synchronous set when synchronous). Read-only.
 */
import type { BulwarkConfig } from '../config/index.js';
import { BulwarkError } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { openDb, probeMembers, readHaState, withClient, type DbTarget, type DirectView } from '../postgres-ha/index.js';
import { processStartTicks, startEpochSeconds } from './proc.js';

export interface ClusterView {
  leader: string | undefined;
  sync: string[] | undefined;
  direct: DirectView[];
  /** Why the cluster is not whole; empty when it is. */
  problems: string[];
}

/** The database with its etcd client; refused without coordination.etcd (no automatic failover without it). */
export function openHaDatabase(config: BulwarkConfig, name: string): DbTarget & { etcd: NonNullable<DbTarget['etcd']> } {
  const db = openDb(config, name);
  if (!db.etcd) {
    void db.close();
    throw new BulwarkError('CONFIG_INVALID', `database ${name} has no automatic failover to drill: coordination.etcd is not configured`, { hint: 'add coordination: { etcd: { endpoints: [...] } } to bulwark.yaml' });
  }
  return db as DbTarget & { etcd: NonNullable<DbTarget['etcd']> };
}

export async function readCluster(db: DbTarget & { etcd: NonNullable<DbTarget['etcd']> }, signal?: AbortSignal): Promise<ClusterView> {
  const names = db.topology.members.map((m) => m.name);
  const [state, direct] = await Promise.all([
    readHaState(db.etcd.client, db.etcd.keys, names, { signal, timeoutMs: 2000 }, { history: false }),
    probeMembers(db.topology, { signal, timeoutMs: 1500 }),
  ]);
  const leader = state.leader?.value;
  const sync = state.sync?.value.members;
  return { leader, sync, direct, problems: clusterProblems(db, leader, sync, direct, state.switchover !== undefined || state.failover !== undefined) };
}

function clusterProblems(db: DbTarget, leader: string | undefined, sync: string[] | undefined, direct: readonly DirectView[], pending: boolean): string[] {
  if (leader === undefined) return ['no member holds the leader key'];
  const problems: string[] = [];
  const lead = direct.find((d) => d.name === leader);
  if (lead?.role !== 'primary') problems.push(`the leader ${leader} is not a writable primary (${lead?.reachable ? 'in recovery' : lead?.error ?? 'unknown'})`);
  for (const d of direct) {
    if (d.name === leader) continue;
    const streams = d.role === 'replica' && d.receiver === 'streaming' && d.upstream === `${lead?.host}:${lead?.port}`;
    if (!streams) problems.push(`${d.name} is not streaming from ${leader} (${d.reachable ? `${d.role}, receiver ${d.receiver ?? 'none'}, upstream ${d.upstream ?? 'none'}` : d.error})`);
    if (db.topology.synchronousMode && !(sync ?? []).includes(d.name)) problems.push(`${d.name} is not in the synchronous set [${(sync ?? []).join(', ')}]`);
  }
  if (pending) problems.push('a switchover or failover request is pending');
  return problems;
}

/** Whether `member` is part of the cluster again: the writable leader, or streaming from the leader. */
export function memberRejoined(view: ClusterView, member: string): boolean {
  if (view.leader === undefined) return false;
  const lead = view.direct.find((d) => d.name === view.leader);
  const me = view.direct.find((d) => d.name === member);
  if (member === view.leader) return me?.role === 'primary';
  return me?.role === 'replica' && me.receiver === 'streaming' && me.upstream === `${lead?.host}:${lead?.port}`;
}

/** Polls `test` on fresh views every `pollMs` until it holds; throws with the last view's problems after `timeoutMs`. */
export async function waitForCluster(db: DbTarget & { etcd: NonNullable<DbTarget['etcd']> }, test: (v: ClusterView) => boolean, timeoutMs: number, what: string, signal?: AbortSignal, pollMs = 200): Promise<ClusterView> {
  const until = performance.now() + timeoutMs;
  let last: ClusterView | undefined;
  let error = '';
  for (;;) {
    signal?.throwIfAborted();
    try {
      last = await readCluster(db, signal);
      if (test(last)) return last;
    } catch (err) {
      signal?.throwIfAborted();
      error = err instanceof Error ? err.message : String(err);
    }
    if (performance.now() > until) {
      throw new BulwarkError('BACKEND_UNAVAILABLE', `database ${db.name}: ${what} not within ${Math.round(timeoutMs / 1000)} s (${last ? last.problems.join('; ') || `leader ${last.leader}` : error})`, { hint: `see \`bulwark db status ${db.name}\` and the daemon's log` });
    }
    await sleep(pollMs, signal);
  }
}

/** The primary's postmaster as this host sees it: pid and start time, from its postmaster.pid read through SQL and checked against /proc. */
export async function localPostmaster(db: DbTarget, member: string, signal?: AbortSignal): Promise<{ pid: number; startTicks: number; dataDir: string }> {
  const endpoint = db.topology.members.find((m) => m.name === member)!.endpoint;
  const text = await withClient(endpoint, { signal, timeoutMs: 5000 }, async (c) => (await c.query<{ t: string }>("SELECT pg_read_file('postmaster.pid') AS t")).rows[0]?.t ?? '');
  const [pidLine, dataDir = '', startLine] = text.split('\n');
  const pid = Number(pidLine);
  const startTicks = Number.isInteger(pid) && pid > 0 ? await processStartTicks(pid) : undefined;
  const startedAt = startTicks === undefined ? NaN : await startEpochSeconds(startTicks);
  // postmaster.pid records the start in whole seconds: a process of that pid started then is that postmaster on this host.
  if (startTicks === undefined || !(Math.abs(startedAt - Number(startLine)) <= 2)) {
    throw new BulwarkError('USAGE', `the primary ${member}'s postmaster (pid ${pidLine} in ${dataDir}) is not a process of this host: a kill drill runs on the primary's host`, {
      hint: 'run the drill on the host of the current primary (bulwark db status shows it), or use mode: switchover',
    });
  }
  return { pid, startTicks, dataDir };
}
