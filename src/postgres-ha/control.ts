/**
 * What `bulwark db` does with the etcd contract (keys.ts): read a database's
 * records, ask each member's PostgreSQL directly, validate and write
 * switchover and failover requests, and wait until the new primary accepts
 * writes. The member managers act on the requests; nothing here touches
 * PostgreSQL beyond read-only questions.
 */
import { readHolder, type CallOptions, type EtcdClient, type LeaseId } from '../coordination/index.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/time.js';
import { formatLsn, parseLsn, type Lsn } from './decide.js';
import { decodeHistory, readHaState, type HaState } from './ha-state.js';
import {
  REQUEST_TTL_SECONDS, type DatabaseKeys, type FailoverRequest, type HistoryEntry, type MemberRecord, type SwitchoverRequest, type SyncRecord,
} from './keys.js';
import { queryRows, type PgEndpoint } from './pg-query.js';
import { readPgStatus } from './postgres-process.js';

export interface ControlMember {
  name: string;
  endpoint: PgEndpoint;
}

/** The database as bulwark.yaml describes it. */
export interface ControlTopology {
  database: string;
  members: readonly ControlMember[];
  synchronousMode: boolean;
  /** Bytes. */
  maximumLagOnFailover: bigint;
}

/** Everything etcd holds about one database (configured members only). */
export interface EtcdView {
  leader: { value: string; leaseId: LeaseId | undefined; modRevision: number } | undefined;
  members: Record<string, MemberRecord>;
  sync: SyncRecord | undefined;
  optime: string | undefined;
  history: HistoryEntry[];
  switchover: SwitchoverRequest | undefined;
  failover: FailoverRequest | undefined;
}

/** One member's PostgreSQL, asked directly. */
export interface DirectView {
  name: string;
  host: string;
  port: number;
  reachable: boolean;
  error?: string;
  role?: 'primary' | 'replica';
  timeline?: number;
  /** Primary: current WAL position; replica: the further of received and replayed. */
  lsn?: string;
  /** Replica: pg_stat_wal_receiver.status (`streaming`, ...), absent when no receiver runs. */
  receiver?: string;
  /** Replica: the host:port it streams from. */
  upstream?: string;
}

export async function readEtcdView(etcd: EtcdClient, keys: DatabaseKeys, members: readonly string[], call: CallOptions = {}): Promise<EtcdView> {
  return etcdViewOf(await readHaState(etcd, keys, members, call));
}

/** The operator's view of a state read through ha-state.ts. */
export function etcdViewOf(state: HaState): EtcdView {
  return {
    leader: state.leader && { value: state.leader.value, leaseId: state.leader.lease, modRevision: state.leader.modRevision },
    members: Object.fromEntries([...state.members].map(([name, r]) => [name, r.value])),
    sync: state.sync?.value,
    optime: state.optime && formatLsn(state.optime.value),
    history: state.history?.value ?? [],
    switchover: state.switchover?.value,
    failover: state.failover?.value,
  };
}

export async function probeMember(member: ControlMember, call: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<DirectView> {
  const base = { name: member.name, host: member.endpoint.host, port: member.endpoint.port };
  try {
    // The managers' own reading (a standby's timeline through IDENTIFY_SYSTEM, not SQL's stale checkpoint one).
    const status = await readPgStatus(member.endpoint, { timeoutMs: call.timeoutMs ?? 1500, signal: call.signal });
    return {
      ...base, reachable: true, role: status.role === 'primary' ? 'primary' : 'replica', timeline: status.timeline || undefined, lsn: formatLsn(status.lsn),
      ...(status.receiver ? { receiver: status.receiver.status } : {}), ...(status.receiver?.sender ? { upstream: status.receiver.sender } : {}),
    };
  } catch (err) {
    return { ...base, reachable: false, error: errorMessage(err).replace(/^PostgreSQL at [^:]+:\d+: /, '') };
  }
}

export async function probeMembers(topology: ControlTopology, call: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<DirectView[]> {
  return Promise.all(topology.members.map((m) => probeMember(m, call)));
}

/** Whether the member's PostgreSQL answers and is out of recovery. */
export async function isWritable(endpoint: PgEndpoint, call: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<boolean> {
  try {
    const rows = await queryRows<{ r: boolean }>(endpoint, 'SELECT pg_is_in_recovery() AS r', [], { timeoutMs: call.timeoutMs ?? 1000, signal: call.signal });
    return rows[0]?.r === false;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- validation

function memberOrThrow(topology: ControlTopology, name: string, flag: string): ControlMember {
  const member = topology.members.find((m) => m.name === name);
  if (!member) {
    throw new BulwarkError('USAGE', `${flag} ${name}: database ${topology.database} has no member "${name}"`, {
      hint: `members in bulwark.yaml: ${topology.members.map((m) => m.name).join(', ')}`,
    });
  }
  return member;
}

function refusePending(view: EtcdView, database: string): void {
  if (view.switchover) {
    const s = view.switchover;
    throw new BulwarkError('BAD_REQUEST', `a switchover of ${database} is already pending (from ${s.from}${s.to ? ` to ${s.to}` : ''}, requested at ${s.requestedAt})`, {
      hint: `wait for it to finish, or for its request to expire (${REQUEST_TTL_SECONDS} s after it was made); see \`bulwark db status ${database}\``,
    });
  }
  if (view.failover) {
    const f = view.failover;
    throw new BulwarkError('BAD_REQUEST', `a failover of ${database} to ${f.to} is already pending (requested at ${f.requestedAt})`, {
      hint: `wait for it to finish, or for its request to expire (${REQUEST_TTL_SECONDS} s after it was made); see \`bulwark db status ${database}\``,
    });
  }
}

/** Why `name` cannot take over in a switchover; undefined when it can. */
export function switchoverRefusal(topology: ControlTopology, view: EtcdView, name: string): string | undefined {
  const record = view.members[name];
  if (!record) return `${name} publishes no member record: its manager is not running (or cannot reach etcd)`;
  if (record.fenced) return `${name} is fenced: it must rejoin as a replica first`;
  if (record.role !== 'replica') return `${name} is not a running replica (its role is ${record.role})`;
  if (topology.synchronousMode) {
    const set = view.sync?.members ?? [];
    if (!set.includes(name)) return `${name} is not in the synchronous set [${set.join(', ')}]: it may lack acknowledged commits`;
  }
  return undefined;
}

export interface SwitchoverPlan {
  from: string;
  /** The named target, or undefined: the leader's manager picks the best candidate. */
  to: string | undefined;
  /** Members that may take over. */
  candidates: string[];
}

/** Throws a BulwarkError (USAGE for bad arguments, BAD_REQUEST for a refusal) with what to do. */
export function checkSwitchover(topology: ControlTopology, view: EtcdView, to: string | undefined): SwitchoverPlan {
  if (to !== undefined) memberOrThrow(topology, to, '--to');
  const from = view.leader?.value;
  if (from === undefined) {
    throw new BulwarkError('BAD_REQUEST', `${topology.database} has no leader: there is no primary to hand over from`, {
      hint: `see \`bulwark db status ${topology.database}\`; with no primary, \`bulwark db failover ${topology.database} --to MEMBER\` names one`,
    });
  }
  if (to === from) {
    throw new BulwarkError('USAGE', `${to} is already the leader of ${topology.database}`, { hint: 'name another member with --to, or leave --to out to let the leader pick the best one' });
  }
  refusePending(view, topology.database);
  if (to !== undefined) {
    const refusal = switchoverRefusal(topology, view, to);
    if (refusal) throw new BulwarkError('BAD_REQUEST', `cannot switch over to ${to}: ${refusal}`, { hint: `see \`bulwark db status ${topology.database}\`; name a replica that is streaming and not fenced` });
    return { from, to, candidates: [to] };
  }
  const others = topology.members.filter((m) => m.name !== from).map((m) => m.name);
  const reasons = others.map((n) => [n, switchoverRefusal(topology, view, n)] as const);
  const candidates = reasons.filter(([, r]) => r === undefined).map(([n]) => n);
  if (candidates.length === 0) {
    throw new BulwarkError('BAD_REQUEST', `no member can take over from ${from}: ${reasons.map(([, r]) => r).join('; ') || 'it is the only member'}`, {
      hint: `see \`bulwark db status ${topology.database}\`; a replica must be running, not fenced${topology.synchronousMode ? ' and in the synchronous set' : ''}`,
    });
  }
  return { from, to: undefined, candidates };
}

export interface FailoverPlan {
  to: string;
  /** What may be lost; empty when the normal rules would allow `to` as well. */
  risks: string[];
  /** Bytes between the target's position and the last published optime, when both are known. */
  behindOptimeBytes: bigint | undefined;
}

/** Throws when the failover must not go ahead; returns the risks the operator accepts with `allowDataLoss`. */
export function checkFailover(topology: ControlTopology, view: EtcdView, direct: readonly DirectView[], to: string, allowDataLoss: boolean): FailoverPlan {
  memberOrThrow(topology, to, '--to');
  const db = topology.database;
  if (view.leader) {
    throw new BulwarkError('BAD_REQUEST', `the cluster has a primary (${view.leader.value}); use \`bulwark db switchover\``, {
      hint: `bulwark db switchover ${db} --to ${to === view.leader.value ? 'MEMBER' : to}`,
    });
  }
  refusePending(view, db);
  const record = view.members[to];
  if (!record) throw new BulwarkError('BAD_REQUEST', `${to} publishes no member record: its manager is not running, so nothing would act on the failover`, { hint: `start \`bulwark up\` on ${to}'s host, then retry` });
  if (record.fenced) throw new BulwarkError('BAD_REQUEST', `${to} is fenced: a fenced former primary may have diverged and cannot be promoted`, { hint: 'name a replica' });
  const seen = direct.find((d) => d.name === to);
  const role = seen?.reachable ? seen.role : record.role;
  if (role !== 'replica') throw new BulwarkError('BAD_REQUEST', `${to} is not a running replica (${seen?.reachable ? `its PostgreSQL is ${role}` : `its PostgreSQL does not answer: ${seen?.error ?? 'unknown'}`})`, { hint: 'name a running replica' });
  const lsn = lsnOf(seen?.lsn ?? record.lsn) ?? 0n;
  const optime = lsnOf(view.optime);
  const behind = optime !== undefined && optime > lsn ? optime - lsn : optime !== undefined ? 0n : undefined;
  const risks = failoverRisks(topology, view, direct, to, lsn, behind);
  if (risks.length > 0 && !allowDataLoss) {
    throw new BulwarkError('BAD_REQUEST', `failover to ${to} may lose acknowledged data: ${risks.join('; ')}`, {
      hint: `wait for the missing members to come back (automatic failover then picks the right one), or pass --allow-data-loss to accept the loss`,
    });
  }
  return { to, risks, behindOptimeBytes: behind };
}

function failoverRisks(topology: ControlTopology, view: EtcdView, direct: readonly DirectView[], to: string, lsn: Lsn, behind: bigint | undefined): string[] {
  const risks: string[] = [];
  const visible = (name: string): DirectView | undefined => {
    const d = direct.find((x) => x.name === name);
    return view.members[name] && !view.members[name]?.fenced && d?.reachable ? d : undefined;
  };
  if (topology.synchronousMode) {
    const set = view.sync?.members ?? [];
    if (!set.includes(to)) risks.push(`${to} is not in the recorded synchronous set [${set.join(', ')}]; commits acknowledged by those members may be missing from it`);
    const unseen = set.filter((n) => n !== to && !visible(n));
    if (unseen.length > 0) risks.push(`${unseen.join(', ')} of the synchronous set ${unseen.length === 1 ? 'is' : 'are'} not visible and may hold acknowledged commits ${to} lacks`);
  } else if (behind !== undefined && behind > topology.maximumLagOnFailover) {
    risks.push(`${to} is ${behind} bytes behind the last published primary position (${view.optime}), above maximum_lag_on_failover (${topology.maximumLagOnFailover} bytes)`);
  }
  const ours = direct.find((x) => x.name === to)?.timeline ?? view.members[to]?.timeline ?? 0;
  for (const m of topology.members) {
    const d = m.name === to ? undefined : visible(m.name);
    const theirs = lsnOf(d?.lsn);
    if (!d || theirs === undefined) continue;
    const tli = d.timeline ?? 0;
    if (tli > ours) risks.push(`${m.name} is on a later timeline (${tli} > ${ours}); it would have to be rewound`);
    else if (tli === ours && theirs > lsn) risks.push(`${m.name} is ${theirs - lsn} bytes further ahead than ${to}; it would have to be rewound`);
  }
  if (topology.synchronousMode && behind !== undefined && behind > 0n && risks.length > 0) {
    risks.push(`${to} is ${behind} bytes behind the last published primary position (${view.optime})`);
  }
  return risks;
}

// ---------------------------------------------------------------- requests

export interface ControlContext {
  etcd: EtcdClient;
  keys: DatabaseKeys;
  topology: ControlTopology;
  /** Bound on each etcd call; 2000 ms by default. */
  callTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface WrittenRequest<T> {
  request: T;
  leaseId: LeaseId;
  /** performance.now() when etcd confirmed the write: the start of the measured time. */
  writtenAt: number;
}

/**
 * Writes the request under a fresh lease of REQUEST_TTL_SECONDS, only if no
 * request of that kind exists: a request nobody acts on disappears by itself.
 */
export async function writeRequest<T extends SwitchoverRequest | FailoverRequest>(ctx: ControlContext, key: string, request: T): Promise<WrittenRequest<T>> {
  const call = { signal: ctx.signal, timeoutMs: ctx.callTimeoutMs ?? 2000 };
  const lease = await ctx.etcd.grantLease(REQUEST_TTL_SECONDS, call);
  let written = false;
  try {
    const result = await ctx.etcd.createIfAbsent(key, JSON.stringify(request), lease.id, call);
    if (!result.succeeded) {
      const what = key === ctx.keys.switchover ? 'a switchover' : 'a failover';
      throw new BulwarkError('BAD_REQUEST', `${what} of ${ctx.topology.database} is already pending: ${result.current?.value ?? '(expired just now)'}`, {
        hint: `wait for it to finish, or for its request to expire (${REQUEST_TTL_SECONDS} s after it was made)`,
      });
    }
    written = true;
    return { request, leaseId: lease.id, writtenAt: performance.now() };
  } finally {
    if (!written) await ctx.etcd.revokeLease(lease.id, call).catch(() => undefined);
  }
}

export async function requestSwitchover(ctx: ControlContext, to: string | undefined): Promise<SwitchoverPlan & WrittenRequest<SwitchoverRequest>> {
  const call = { signal: ctx.signal, timeoutMs: ctx.callTimeoutMs ?? 2000 };
  const view = await readEtcdView(ctx.etcd, ctx.keys, ctx.topology.members.map((m) => m.name), call);
  const plan = checkSwitchover(ctx.topology, view, to);
  const request: SwitchoverRequest = { from: plan.from, ...(plan.to ? { to: plan.to } : {}), requestedAt: new Date().toISOString() };
  return { ...plan, ...(await writeRequest(ctx, ctx.keys.switchover, request)) };
}

export async function requestFailover(ctx: ControlContext, to: string, allowDataLoss: boolean, probeTimeoutMs = 1500): Promise<FailoverPlan & WrittenRequest<FailoverRequest>> {
  const call = { signal: ctx.signal, timeoutMs: ctx.callTimeoutMs ?? 2000 };
  const [view, direct] = await Promise.all([
    readEtcdView(ctx.etcd, ctx.keys, ctx.topology.members.map((m) => m.name), call),
    probeMembers(ctx.topology, { signal: ctx.signal, timeoutMs: probeTimeoutMs }),
  ]);
  const plan = checkFailover(ctx.topology, view, direct, to, allowDataLoss);
  const request: FailoverRequest = { to, allowDataLoss, requestedAt: new Date().toISOString() };
  return { ...plan, ...(await writeRequest(ctx, ctx.keys.failover, request)) };
}

// ---------------------------------------------------------------- waiting

export interface WaitOptions {
  kind: 'switchover' | 'failover';
  /** The leader the request moves away from (switchover). */
  from?: string;
  /** The member that must end up leading, when named. */
  to?: string;
  requestKey: string;
  requestedAt: string;
  /** performance.now() of the write: the measured time starts there. */
  writtenAt: number;
  timeoutMs: number;
  /** How often the key and the target's PostgreSQL are looked at; 50 ms by default. */
  pollMs?: number;
  /** How long to wait for the history entry once the new primary is writable; 3 s by default. */
  historyWaitMs?: number;
}

export interface NewPrimary {
  leader: string;
  /** Request written → the new primary answered pg_is_in_recovery() = false, measured here. */
  elapsedMs: number;
  /** The history entry the new leader appended, if it did within historyWaitMs. */
  history: HistoryEntry | undefined;
}

/** A request gone while the key still names the old leader, for this long, was dropped rather than acted on. */
const WITHDRAWN_AFTER_MS = 3000;

/**
 * Waits until the leader key names a member other than `from` (the `to` one
 * if given) and that member's PostgreSQL accepts writes. Polls: PostgreSQL
 * announces nothing when it leaves recovery, and the key and the server must
 * be seen together.
 */
export async function waitForNewPrimary(ctx: ControlContext, o: WaitOptions): Promise<NewPrimary> {
  const pollMs = o.pollMs ?? 50;
  const until = o.writtenAt + o.timeoutMs;
  let lastSeen = 'nothing read yet';
  let goneSince: number | undefined;
  for (;;) {
    ctx.signal?.throwIfAborted();
    const remaining = until - performance.now();
    if (remaining <= 0) throw timeoutError(ctx.topology.database, o, lastSeen);
    const call = { signal: ctx.signal, timeoutMs: Math.max(1, Math.min(ctx.callTimeoutMs ?? 1000, remaining)) };
    try {
      const [holder, request] = await Promise.all([readHolder(ctx.etcd, ctx.keys.leader, call), ctx.etcd.get(o.requestKey, call)]);
      const leader = holder?.value;
      lastSeen = leader === undefined ? 'the leader key is free' : `the leader key names ${leader}`;
      if (leader !== undefined && leader !== o.from) {
        if (o.to !== undefined && leader !== o.to) {
          throw new BulwarkError('BAD_REQUEST', `${leader} took the leader key of ${ctx.topology.database}, not ${o.to}`, { hint: `see \`bulwark db status ${ctx.topology.database}\` and the managers' logs` });
        }
        const member = ctx.topology.members.find((m) => m.name === leader);
        if (member && (await isWritable(member.endpoint, call))) {
          const elapsedMs = performance.now() - o.writtenAt;
          return { leader, elapsedMs, history: await waitForHistory(ctx, leader, o) };
        }
        lastSeen += `, whose PostgreSQL does not accept writes yet`;
      }
      if (!request.kv && leader !== undefined && leader === o.from) {
        goneSince ??= performance.now();
        if (performance.now() - goneSince > WITHDRAWN_AFTER_MS) {
          throw new BulwarkError('BAD_REQUEST', `the ${o.kind} request of ${ctx.topology.database} was withdrawn and ${leader} still leads`, {
            hint: 'the leader\'s manager refused or abandoned it; see its log for why',
          });
        }
      } else {
        goneSince = undefined;
      }
    } catch (err) {
      if (err instanceof BulwarkError && err.code === 'BAD_REQUEST') throw err;
      ctx.signal?.throwIfAborted();
      lastSeen = `etcd did not answer (${errorMessage(err)})`;
    }
    await sleep(pollMs, ctx.signal);
  }
}

function timeoutError(database: string, o: WaitOptions, lastSeen: string): BulwarkError {
  return new BulwarkError('BACKEND_UNAVAILABLE', `the ${o.kind} of ${database} did not finish within ${Math.round(o.timeoutMs / 1000)} s: ${lastSeen}`, {
    hint: `the request expires by itself (${REQUEST_TTL_SECONDS} s after it was made); see \`bulwark db status ${database}\` and the managers' logs`,
  });
}

async function waitForHistory(ctx: ControlContext, leader: string, o: WaitOptions): Promise<HistoryEntry | undefined> {
  const until = performance.now() + (o.historyWaitMs ?? 3000);
  // The entry is written on the new leader's host: allow its clock a little skew.
  const since = Date.parse(o.requestedAt) - 5000;
  while (performance.now() < until) {
    try {
      const { kv } = await ctx.etcd.get(ctx.keys.history, { signal: ctx.signal, timeoutMs: 1000 });
      const list = kv ? decodeHistory(kv.value) : undefined;
      const entry = list ? [...list].reverse().find((e) => e.to === leader && Date.parse(e.at) >= since) : undefined;
      if (entry) return entry;
    } catch {
      // etcd hiccup: the entry is only a nicety, the primary is already writable
    }
    await sleep(o.pollMs ?? 50, ctx.signal);
  }
  return undefined;
}

// ---------------------------------------------------------------- helpers

export function lsnOf(text: string | undefined): Lsn | undefined {
  if (text === undefined) return undefined;
  try {
    return parseLsn(text);
  } catch {
    return undefined;
  }
}
