import type { Command } from 'commander';
import { errorMessage } from '../../../core/errors.js';
import {
  lsnOf, probeMembers, readRecorded, readReplication, shortReason, standbyNames,
  type DirectView, type FailoverRequest, type HistoryEntry, type MemberRecord, type RecordedView, type ReplicationRead, type SwitchoverRequest, type SyncRecord, type WalSender,
} from '../../../postgres-ha/index.js';
import { EXIT } from '../../exit-codes.js';
import { print, printJSON } from '../../output.js';
import { addDbOptions, durationOption, openDb, type DbOptions, type DbTarget } from './db-config.js';
import { recordedWhen, renderStatus } from './render.js';

/**
 * Where a fact comes from. live: asked of PostgreSQL by this command just now;
 * recorded: read from the etcd keys the member managers publish (see the
 * revisions and `recordAgeMs` for how old); `live vs recorded optime`: a live
 * position measured against the last published primary position.
 */
export type FactSource = 'live' | 'recorded' | 'live vs recorded optime';

export type MemberFact = 'role' | 'state' | 'timeline' | 'lsn' | 'lagBytes' | 'fenced' | 'inSyncSet' | 'syncState';

export interface MemberStatus {
  name: string;
  host: string;
  port: number;
  /** Live: `primary`/`replica` from PostgreSQL; `unknown` when it does not answer (the record's role is in `record`). */
  role: string;
  /** Live: `read-write`, `streaming from m1`, `not streaming`, or `unreachable`. */
  state: string;
  reachable: boolean;
  /** Live; null when PostgreSQL does not answer. */
  timeline: number | null;
  /** Live; null when PostgreSQL does not answer (never the record's position). */
  lsn: string | null;
  /** Bytes behind the primary's position asked just now (else the published optime, see `sources.lagBytes`); null when unknown. */
  lagBytes: number | null;
  /** Recorded: the member record's `fenced`; null without a record. */
  fenced: boolean | null;
  /** Recorded: the leader key names this member. */
  leader: boolean;
  /** Recorded: the `sync` key lists this member; null without a sync record. */
  inSyncSet: boolean | null;
  /** Recorded: the member's key in etcd as its manager published it; null when there is none. */
  record: MemberRecord | null;
  /** Live: PostgreSQL's error when it did not answer. */
  error?: string;
  /** Live: `error` in a few words (`connection refused`). */
  reason?: string;
  /** Live: the member (else host:port) its WAL receiver streams from. */
  upstream: string | null;
  /** Live: this standby's row in the primary's pg_stat_replication; null when it is the primary, not connected, or no primary answered. */
  replication: { primary: string; user: string | null; state: string | null; syncState: string | null } | null;
  /** The `sync` key's membership and the primary's live sync_state disagree. */
  syncMismatch: boolean;
  /** etcd mod revision of the member key; null without a record. */
  recordRevision: number | null;
  /** The record's own publish time, when its manager writes one (`at`). */
  recordAt: string | null;
  /** observedAt − recordAt (clocks of two hosts); null when the record carries no time. */
  recordAgeMs: number | null;
  /** Where each fact above comes from; null when the fact is unknown. */
  sources: Record<MemberFact, FactSource | null>;
}

/** A primary's replication as PostgreSQL reports it, asked just now. */
export interface ReplicationStatus {
  primary: string;
  /** The primary the leader key names (the one the members' records are compared with). */
  leader: boolean;
  /** Live `synchronous_standby_names`; null when the primary did not answer this question. */
  synchronousStandbyNames: string | null;
  /** The names it lists. */
  synchronousStandbys: string[];
  /** pg_stat_replication, every WAL sender (also ones that are not members: pg_basebackup, ...). */
  senders: WalSender[];
  error?: string;
}

/** A recorded fact that a live one contradicts. */
export interface Mismatch {
  member: string;
  fact: 'role' | 'fenced' | 'sync' | 'synchronous_standby_names';
  recorded: string;
  live: string;
  message: string;
}

export interface DbStatus {
  database: string;
  synchronous: boolean;
  coordination: 'etcd' | 'none';
  etcd: { reachable: boolean; endpoints: readonly string[]; error?: string } | null;
  /** Recorded: the leader key, with the revision it was written at. */
  leader: { member: string; lease: string | null; revision: number } | null;
  /** Recorded: the `sync` key as written. */
  sync: SyncRecord | null;
  optime: string | null;
  pending: { switchover: SwitchoverRequest | null; failover: FailoverRequest | null };
  lastChange: HistoryEntry | null;
  history: HistoryEntry[];
  /** Live: members whose PostgreSQL answered as primary. */
  writable: string[];
  members: MemberStatus[];
  notes: string[];
  /** When the live questions were asked. */
  observedAt: string;
  /** etcd's revision when the records were read; null when etcd was not read. */
  etcdRevision: number | null;
  syncRevision: number | null;
  optimeRevision: number | null;
  /** Live, one per member that answered as primary. */
  replication: ReplicationStatus[];
  /** Every recorded fact a live one contradicts (also in the members' fields). */
  mismatches: Mismatch[];
}

export const NO_ETCD_NOTE = 'automatic failover is off (no coordination.etcd); only manual switchover is available';

export function registerStatus(db: Command): void {
  addDbOptions(db.command('status').argument('<database>', 'a PostgreSQL database of bulwark.yaml')
    .description('each member as its PostgreSQL answers now (live), beside what etcd holds (recorded, with its age): leader, sync set, lag, mismatches')
    .option('--probe-timeout <duration>', 'bound on asking each member', '1500ms'))
    .addHelpText('after', `
Live facts are asked of every configured member's PostgreSQL just now: role, WAL
receiver, timeline, WAL position, lag behind the primary; on the primary its
synchronous_standby_names and pg_stat_replication (user, state, sync_state). A member
that does not answer is shown as unreachable with the reason.

Recorded facts are read from the database's keys in etcd, as the member managers last
published them: leader key, member records (role, fenced, position, the manager's own
state; with the etcd revision and, when the record carries it, its age), synchronous
set, optime, pending requests, history. A recorded fact contradicted by a live one is
flagged as a MISMATCH (in --json: "mismatches", and per member "syncMismatch").
With etcd unreachable, or without coordination.etcd, the live view is still shown.

Exit codes: 0 a member accepts writes, 1 no member accepts writes, 2 bad input
(unreadable configuration, unknown database).

Examples:
  bulwark db status main-db -c bulwark.yaml
  bulwark db status main-db -c bulwark.yaml --json | jq '.members[] | {name, role, lagBytes, syncMismatch}'`)
    .action(async (name: string, options: DbOptions & { probeTimeout: string }) => {
      const timeoutMs = durationOption('--probe-timeout', options.probeTimeout);
      const target = await openDb(options, name);
      try {
        const status = await databaseStatus(target, timeoutMs);
        if (options.json) printJSON(status);
        else print(renderStatus(status));
        process.exitCode = status.writable.length > 0 ? EXIT.ok : EXIT.findings;
      } finally {
        await target.close();
      }
    });
}

/** What summarize needs to know of the configuration. */
export interface StatusSubject {
  name: string;
  synchronous: boolean;
  /** Set when coordination.etcd is configured. */
  etcdEndpoints: readonly string[] | undefined;
}

/** The readings summarize puts together. */
export interface StatusFacts {
  observedAt: string;
  direct: DirectView[];
  recorded: RecordedView | undefined;
  etcdError: string | undefined;
  replication: ReplicationRead[];
}

export async function databaseStatus(target: DbTarget, probeTimeoutMs: number): Promise<DbStatus> {
  const names = target.topology.members.map((m) => m.name);
  const observedAt = new Date().toISOString();
  const [direct, etcdRead] = await Promise.all([
    probeMembers(target.topology, { timeoutMs: probeTimeoutMs }),
    target.etcd
      ? readRecorded(target.etcd.client, target.etcd.keys, names, { timeoutMs: Math.max(probeTimeoutMs, 2000) }).then(
        (recorded) => ({ recorded, error: undefined }), (err: unknown) => ({ recorded: undefined, error: errorMessage(err) }))
      : Promise.resolve({ recorded: undefined, error: undefined }),
  ]);
  const primaries = target.topology.members.filter((m) => direct.some((d) => d.name === m.name && d.reachable && d.role === 'primary'));
  const replication = await Promise.all(primaries.map((m) => readReplication(m.name, m.endpoint, { timeoutMs: probeTimeoutMs })));
  const subject = { name: target.name, synchronous: target.topology.synchronousMode, etcdEndpoints: target.etcd?.endpoints };
  return summarize(subject, { observedAt, direct, recorded: etcdRead.recorded, etcdError: etcdRead.error, replication });
}

export function summarize(subject: StatusSubject, facts: StatusFacts): DbStatus {
  const view = facts.recorded?.view;
  const leaderName = view?.leader?.value;
  const writable = facts.direct.filter((d) => d.reachable && d.role === 'primary').map((d) => d.name);
  const primary = leaderName !== undefined && writable.includes(leaderName) ? leaderName : writable[0];
  const replication = facts.replication.map((r) => replicationStatus(r, leaderName));
  const context: MemberContext = {
    facts, primary, leaderName, sync: view?.sync,
    reference: referenceOf(facts, primary),
    senders: replication.find((r) => r.primary === primary && r.error === undefined)?.senders,
    names: new Map(facts.direct.map((d) => [`${d.host}:${d.port}`, d.name])),
  };
  const members = facts.direct.map((d) => memberStatus(d, context));
  const status: DbStatus = {
    database: subject.name,
    synchronous: subject.synchronous,
    coordination: subject.etcdEndpoints ? 'etcd' : 'none',
    etcd: subject.etcdEndpoints ? { reachable: view !== undefined, endpoints: subject.etcdEndpoints, ...(facts.etcdError ? { error: facts.etcdError } : {}) } : null,
    leader: view?.leader ? { member: view.leader.value, lease: view.leader.leaseId ?? null, revision: view.leader.modRevision } : null,
    sync: view?.sync ?? null,
    optime: view?.optime ?? null,
    pending: { switchover: view?.switchover ?? null, failover: view?.failover ?? null },
    lastChange: view?.history.at(-1) ?? null,
    history: view?.history ?? [],
    writable,
    members,
    notes: [],
    observedAt: facts.observedAt,
    etcdRevision: facts.recorded?.revision ?? null,
    syncRevision: facts.recorded?.revisions.sync ?? null,
    optimeRevision: facts.recorded?.revisions.optime ?? null,
    replication,
    mismatches: [],
  };
  status.mismatches = mismatches(status, primary);
  status.notes = notes(status, facts.etcdError);
  return status;
}

interface MemberContext {
  facts: StatusFacts;
  /** The member whose live position and replication the others are measured against. */
  primary: string | undefined;
  leaderName: string | undefined;
  sync: SyncRecord | undefined;
  reference: { lsn: bigint; source: FactSource } | undefined;
  senders: WalSender[] | undefined;
  /** host:port → member name. */
  names: Map<string, string>;
}

function referenceOf(facts: StatusFacts, primary: string | undefined): MemberContext['reference'] {
  const live = lsnOf(facts.direct.find((d) => d.name === primary)?.lsn);
  if (live !== undefined) return { lsn: live, source: 'live' };
  const optime = lsnOf(facts.recorded?.view.optime);
  return optime !== undefined ? { lsn: optime, source: 'live vs recorded optime' } : undefined;
}

function memberStatus(d: DirectView, c: MemberContext): MemberStatus {
  const record = c.facts.recorded?.view.members[d.name] ?? null;
  const live = d.reachable;
  const role = live ? d.role ?? 'unknown' : 'unknown';
  const lsn = live ? d.lsn ?? null : null;
  const ours = lsnOf(lsn ?? undefined);
  let lagBytes: number | null = null;
  let lagSource: FactSource | null = null;
  if (live && role === 'primary') [lagBytes, lagSource] = [0, 'live'];
  else if (live && c.reference && ours !== undefined) [lagBytes, lagSource] = [Number(c.reference.lsn > ours ? c.reference.lsn - ours : 0n), c.reference.source];
  const upstream = d.upstream ? c.names.get(d.upstream) ?? d.upstream : null;
  const isPrimary = live && role === 'primary';
  const sender = !isPrimary && c.senders ? c.senders.find((s) => s.applicationName.toLowerCase() === d.name.toLowerCase()) : undefined;
  const inSyncSet = c.sync ? c.sync.members.includes(d.name) : null;
  const listed = sender?.syncState !== undefined && sender.syncState !== null && sender.syncState !== 'async';
  const syncMismatch = !isPrimary && inSyncSet !== null && sender !== undefined && inSyncSet !== listed;
  const recordRevision = c.facts.recorded?.revisions.members[d.name] ?? null;
  const at = record?.at !== undefined && Number.isFinite(Date.parse(record.at)) ? record.at : null;
  const syncStateKnown = !isPrimary && c.senders !== undefined;
  return {
    name: d.name, host: d.host, port: d.port, role, state: stateOf(d, upstream), reachable: live,
    timeline: live ? d.timeline ?? null : null, lsn, lagBytes,
    fenced: record ? record.fenced : null, leader: c.leaderName === d.name, inSyncSet, record,
    ...(d.error ? { error: d.error, reason: shortReason(d.error) } : {}),
    upstream,
    replication: c.primary && sender ? { primary: c.primary, user: sender.user, state: sender.state, syncState: sender.syncState } : null,
    syncMismatch,
    recordRevision, recordAt: at, recordAgeMs: at ? Math.max(0, Date.parse(c.facts.observedAt) - Date.parse(at)) : null,
    sources: {
      role: live ? 'live' : null, state: 'live', timeline: live ? 'live' : null, lsn: live ? 'live' : null, lagBytes: lagSource,
      fenced: record ? 'recorded' : null, inSyncSet: inSyncSet === null ? null : 'recorded', syncState: syncStateKnown ? 'live' : null,
    },
  };
}

function stateOf(d: DirectView, upstream: string | null): string {
  if (!d.reachable) return 'unreachable';
  if (d.role === 'primary') return 'read-write';
  if (!d.receiver) return 'not streaming';
  return upstream ? `${d.receiver} from ${upstream}` : d.receiver;
}

function replicationStatus(r: ReplicationRead, leaderName: string | undefined): ReplicationStatus {
  if ('error' in r) return { primary: r.member, leader: r.member === leaderName, synchronousStandbyNames: null, synchronousStandbys: [], senders: [], error: r.error };
  return {
    primary: r.member, leader: r.member === leaderName, synchronousStandbyNames: r.synchronousStandbyNames,
    synchronousStandbys: standbyNames(r.synchronousStandbyNames), senders: r.senders,
    // Asked a moment after the probe: a primary that went into recovery in between is said so.
    ...(r.inRecovery ? { error: 'in recovery when asked for its replication (it was primary a moment before)' } : {}),
  };
}

function mismatches(s: DbStatus, primary: string | undefined): Mismatch[] {
  const out: Mismatch[] = [];
  for (const m of s.members) {
    const r = m.record;
    if (r) {
      const ago = recordedWhen(m);
      if (m.reachable && r.role !== m.role) {
        out.push({ member: m.name, fact: 'role', recorded: r.role, live: m.role, message: `${m.name}: its record says ${r.role} (${ago}); its PostgreSQL answers as ${m.role}` });
      } else if (!m.reachable && (r.role === 'primary' || r.role === 'replica')) {
        out.push({ member: m.name, fact: 'role', recorded: r.role, live: 'unreachable', message: `${m.name}: its record says ${r.role} (${ago}); its PostgreSQL does not answer here (${m.reason ?? 'unknown'})` });
      }
      if (r.fenced && m.reachable && m.role === 'primary') {
        out.push({ member: m.name, fact: 'fenced', recorded: 'fenced', live: 'primary', message: `${m.name}: its record says fenced (${ago}); its PostgreSQL answers as a writable primary` });
      }
    }
    if (m.syncMismatch && m.replication) {
      const recorded = m.inSyncSet ? 'yes' : 'no';
      const message = m.inSyncSet
        ? `${m.name}: the recorded synchronous set lists it, but ${m.replication.primary} replicates to it ${m.replication.syncState} (commits do not wait for it)`
        : `${m.name}: not in the recorded synchronous set, but ${m.replication.primary} counts it as ${m.replication.syncState} (a commit may be acknowledged by it alone)`;
      out.push({ member: m.name, fact: 'sync', recorded, live: m.replication.syncState ?? 'unknown', message });
    }
  }
  const rep = s.replication.find((r) => r.primary === primary && r.error === undefined);
  if (rep && s.sync) out.push(...standbyNamesMismatch(rep, s.sync, s.syncRevision));
  return out;
}

/** The primary's live synchronous_standby_names against the recorded set (the primary itself left out). */
function standbyNamesMismatch(rep: ReplicationStatus, sync: SyncRecord, revision: number | null): Mismatch[] {
  const recorded = sync.members.filter((n) => n !== rep.primary);
  const live = rep.synchronousStandbys.filter((n) => n.toLowerCase() !== rep.primary.toLowerCase());
  const lower = (list: string[]): string[] => list.map((n) => n.toLowerCase()).sort();
  const all = live.includes('*');
  if (all ? recorded.length > 0 : lower(recorded).join(',') === lower(live).join(',')) return [];
  const where = `${rep.primary}'s synchronous_standby_names is '${rep.synchronousStandbyNames ?? ''}'`;
  const set = `the recorded synchronous set is [${sync.members.join(', ')}]${revision !== null ? ` (rev ${revision})` : ''}`;
  const message = live.length === 0 && recorded.length > 0
    ? `${where}: commits are acknowledged without waiting for any standby, while ${set}`
    : `${where}, while ${set}`;
  return [{ member: rep.primary, fact: 'synchronous_standby_names', recorded: `[${recorded.join(', ')}]`, live: rep.synchronousStandbyNames ?? '', message }];
}

function notes(s: DbStatus, etcdError: string | undefined): string[] {
  const out: string[] = [];
  if (s.coordination === 'none') out.push(NO_ETCD_NOTE);
  else if (etcdError) out.push(`etcd is unreachable (${etcdError}): showing only what PostgreSQL says directly`);
  if (s.writable.length === 0) out.push('no member accepts writes');
  if (s.writable.length > 1) out.push(`${s.writable.length} members accept writes (${s.writable.join(', ')}): split brain; fence all but one`);
  if (s.etcd?.reachable) {
    if (!s.leader) out.push('nobody holds the leader key');
    else if (!s.writable.includes(s.leader.member)) out.push(`the leader key names ${s.leader.member}, whose PostgreSQL does not accept writes`);
    for (const w of s.writable) if (s.leader && w !== s.leader.member) out.push(`${w} accepts writes without holding the leader key`);
  }
  for (const r of s.replication) if (r.error) out.push(`${r.primary}'s replication could not be read: ${r.error}`);
  return out;
}
