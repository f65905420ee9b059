import type { Command } from 'commander';
import { errorMessage } from '../../../core/errors.js';
import { lsnOf, probeMembers, readEtcdView, type DirectView, type EtcdView } from '../../../postgres-ha/control.js';
import type { FailoverRequest, HistoryEntry, MemberRecord, SwitchoverRequest, SyncRecord } from '../../../postgres-ha/keys.js';
import { EXIT } from '../../exit-codes.js';
import { print, printJSON } from '../../output.js';
import { addDbOptions, durationOption, openDb, type DbOptions, type DbTarget } from './db-config.js';
import { renderStatus } from './render.js';

export interface MemberStatus {
  name: string;
  host: string;
  port: number;
  /** From PostgreSQL when it answers, else what the member's record last said. */
  role: string;
  state: string;
  reachable: boolean;
  timeline: number | null;
  lsn: string | null;
  /** Bytes behind the primary (its position asked directly, else the published optime). */
  lagBytes: number | null;
  fenced: boolean | null;
  leader: boolean;
  inSyncSet: boolean | null;
  record: MemberRecord | null;
  error?: string;
}

export interface DbStatus {
  database: string;
  synchronous: boolean;
  coordination: 'etcd' | 'none';
  etcd: { reachable: boolean; endpoints: readonly string[]; error?: string } | null;
  leader: { member: string; lease: string | null } | null;
  sync: SyncRecord | null;
  optime: string | null;
  pending: { switchover: SwitchoverRequest | null; failover: FailoverRequest | null };
  lastChange: HistoryEntry | null;
  history: HistoryEntry[];
  writable: string[];
  members: MemberStatus[];
  notes: string[];
}

export const NO_ETCD_NOTE = 'automatic failover is off (no coordination.etcd); only manual switchover is available';

export function registerStatus(db: Command): void {
  addDbOptions(db.command('status').argument('<database>', 'a PostgreSQL database of bulwark.yaml')
    .description('each member as PostgreSQL itself reports it, beside what etcd holds: leader, sync set, lag, last failover')
    .option('--probe-timeout <duration>', 'bound on asking each member', '1500ms'))
    .addHelpText('after', `
Asks every configured member's PostgreSQL directly (role, timeline, WAL position) and
reads the database's records in etcd (leader key, member records, sync set, optime,
pending requests, history). With etcd unreachable, or without coordination.etcd, the
direct view is still shown.

Exit codes: 0 a member accepts writes, 1 no member accepts writes, 2 bad input
(unreadable configuration, unknown database).

Examples:
  bulwark db status main-db -c bulwark.yaml
  bulwark db status main-db -c bulwark.yaml --json | jq '.members[] | {name, role, lagBytes}'`)
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

export async function databaseStatus(target: DbTarget, probeTimeoutMs: number): Promise<DbStatus> {
  const names = target.topology.members.map((m) => m.name);
  const [direct, etcdRead] = await Promise.all([
    probeMembers(target.topology, { timeoutMs: probeTimeoutMs }),
    target.etcd
      ? readEtcdView(target.etcd.client, target.etcd.keys, names, { timeoutMs: Math.max(probeTimeoutMs, 2000) }).then(
        (view) => ({ view, error: undefined }), (err: unknown) => ({ view: undefined, error: errorMessage(err) }))
      : Promise.resolve({ view: undefined, error: undefined }),
  ]);
  return summarize(target, direct, etcdRead.view, etcdRead.error);
}

export function summarize(target: DbTarget, direct: DirectView[], view: EtcdView | undefined, etcdError: string | undefined): DbStatus {
  const leaderName = view?.leader?.value;
  const writable = direct.filter((d) => d.reachable && d.role === 'primary').map((d) => d.name);
  const reference = lsnOf(direct.find((d) => d.name === (leaderName ?? writable[0]) && d.role === 'primary')?.lsn) ?? lsnOf(view?.optime);
  const syncSet = view?.sync?.members;
  const members = direct.map((d): MemberStatus => {
    const record = view?.members[d.name] ?? null;
    const lsn = d.reachable ? d.lsn ?? null : record?.lsn ?? null;
    const ours = lsnOf(lsn ?? undefined);
    const role = d.reachable ? d.role ?? 'unknown' : record ? record.role : 'unknown';
    const lag = role === 'primary' ? 0 : reference !== undefined && ours !== undefined ? Number(reference > ours ? reference - ours : 0n) : record?.lagBytes ?? null;
    return {
      name: d.name, host: d.host, port: d.port, role, state: stateOf(d, record), reachable: d.reachable,
      timeline: d.reachable ? d.timeline ?? null : record?.timeline ?? null, lsn, lagBytes: lag,
      fenced: record ? record.fenced : null, leader: leaderName === d.name, inSyncSet: syncSet ? syncSet.includes(d.name) : null, record,
      ...(d.error ? { error: d.error } : {}),
    };
  });
  const status: DbStatus = {
    database: target.name,
    synchronous: target.topology.synchronousMode,
    coordination: target.etcd ? 'etcd' : 'none',
    etcd: target.etcd ? { reachable: view !== undefined, endpoints: target.etcd.endpoints, ...(etcdError ? { error: etcdError } : {}) } : null,
    leader: view?.leader ? { member: view.leader.value, lease: view.leader.leaseId ?? null } : null,
    sync: view?.sync ?? null,
    optime: view?.optime ?? null,
    pending: { switchover: view?.switchover ?? null, failover: view?.failover ?? null },
    lastChange: view?.history.at(-1) ?? null,
    history: view?.history ?? [],
    writable,
    members,
    notes: [],
  };
  status.notes = notes(status, etcdError);
  return status;
}

function stateOf(d: DirectView, record: MemberRecord | null): string {
  const extra = record?.state ? ` (${record.state})` : '';
  if (!d.reachable) return `unreachable${extra}`;
  if (d.role === 'primary') return `running${extra}`;
  return `${d.receiver ?? 'not streaming'}${extra}`;
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
  return out;
}
