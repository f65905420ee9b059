import type { HistoryEntry } from '../../../postgres-ha/index.js';
import { formatBytes } from '../../progress.js';
import type { DbStatus, MemberStatus, ReplicationStatus } from './status.js';

/**
 * Live facts (asked of PostgreSQL just now) and recorded ones (the etcd keys, with
 * their revision and age) in separate tables, so that no line mixes the two; where
 * they meet (SYNC) each half says which it is, and contradictions are MISMATCH lines.
 */
export function renderStatus(s: DbStatus): string {
  const mode = s.synchronous ? 'synchronous' : 'asynchronous';
  const where = s.etcd ? `etcd ${s.etcd.endpoints.join(',')}${s.etcd.reachable ? '' : ' (unreachable)'}` : 'no coordination';
  const lines = [`${s.database}: PostgreSQL, ${mode} replication, ${where}`, ''];
  lines.push(`live: each member's PostgreSQL, asked at ${s.observedAt}`);
  lines.push(...table(['MEMBER', 'ADDRESS', 'ROLE', 'STATE', 'TL', 'LSN', 'LAG', 'SYNC (recorded / live)'], s.members.map((m) => liveRow(m, s))), '');
  for (const r of s.replication) lines.push(...replicationLines(r, s), '');
  if (s.etcd?.reachable) lines.push(...recordedLines(s), '');
  for (const m of s.mismatches) lines.push(`MISMATCH ${m.message}`);
  if (s.pending.switchover) {
    const p = s.pending.switchover;
    lines.push(`pending: switchover from ${p.from}${p.to ? ` to ${p.to}` : ''}, requested at ${p.requestedAt}`);
  }
  if (s.pending.failover) lines.push(`pending: failover to ${s.pending.failover.to}${s.pending.failover.allowDataLoss ? ' (data loss allowed)' : ''}, requested at ${s.pending.failover.requestedAt}`);
  if (s.lastChange) lines.push(`last ${describeHistory(s.lastChange)}`);
  for (const m of s.members) if (m.error && m.error !== m.reason) lines.push(`${m.name}: ${m.error}`);
  for (const note of s.notes) lines.push(`note: ${note}`);
  return lines.join('\n').replace(/\n+$/, '');
}

function liveRow(m: MemberStatus, s: DbStatus): string[] {
  const name = `${m.name}${m.leader ? ' *' : ''}`;
  if (!m.reachable) return [name, `${m.host}:${m.port}`, 'unreachable', m.reason ?? 'no answer', '-', '-', '-', syncCell(m, s)];
  return [
    name, `${m.host}:${m.port}`, m.role, m.state, m.timeline === null ? '-' : String(m.timeline), m.lsn ?? '-',
    m.lagBytes === null || m.role === 'primary' ? '-' : `${formatBytes(m.lagBytes)}${m.sources.lagBytes === 'live vs recorded optime' ? ' (vs optime)' : ''}`,
    syncCell(m, s),
  ];
}

function syncCell(m: MemberStatus, s: DbStatus): string {
  const recorded = `recorded ${m.inSyncSet === null ? '-' : m.inSyncSet ? 'yes' : 'no'}`;
  if (m.reachable && m.role === 'primary') return m.inSyncSet === null ? '-' : recorded;
  const answered = s.replication.some((r) => r.error === undefined);
  const live = m.replication?.syncState ?? (answered ? 'not connected' : '-');
  return `${recorded} / live ${live}${m.syncMismatch ? '  ← mismatch' : ''}`;
}

function replicationLines(r: ReplicationStatus, s: DbStatus): string[] {
  const head = `${r.primary}'s replication (live)`;
  if (r.error !== undefined) return [`${head}: ${r.error}`];
  const names = r.synchronousStandbyNames === '' ? "'' (none: commits wait for no standby)" : `'${r.synchronousStandbyNames ?? ''}'`;
  const out = [`${head}: synchronous_standby_names = ${names}`];
  for (const w of r.senders) {
    out.push(`  ${w.applicationName}: ${w.state ?? '?'}, sync_state ${w.syncState ?? '?'}, user ${w.user ?? '?'}`);
  }
  const connected = new Set(r.senders.map((w) => w.applicationName.toLowerCase()));
  const absent = s.members.filter((m) => m.name !== r.primary && !connected.has(m.name.toLowerCase())).map((m) => m.name);
  if (r.senders.length === 0) out.push('  no standby is connected');
  else if (absent.length > 0) out.push(`  not connected: ${absent.join(', ')}`);
  return out;
}

function recordedLines(s: DbStatus): string[] {
  const rows = s.members.map((m): string[] => {
    const r = m.record;
    if (!r) return [m.name, 'no record (no manager publishes it: not running, or cut off from etcd)'];
    const down = r.role === 'unknown' || r.role === 'stopped';
    return [
      m.name, r.role, r.fenced ? 'FENCED' : 'no', r.timeline > 0 ? String(r.timeline) : '-', down || r.lsn === '0/0' ? '-' : r.lsn,
      r.lagBytes === undefined || down ? '-' : formatBytes(r.lagBytes), r.following ?? '-', recordedWhen(m), r.state ?? '-',
    ];
  });
  const out = [`recorded: etcd keys the member managers publish (etcd at revision ${s.etcdRevision ?? '?'} when read)`];
  out.push(...table(['MEMBER', 'ROLE', 'FENCED', 'TL', 'LSN', 'LAG', 'FOLLOWS', 'PUBLISHED', "MANAGER'S STATE"], rows));
  if (s.leader) out.push(`* leader key: ${s.leader.member}${s.leader.lease ? ` (lease ${s.leader.lease}, rev ${s.leader.revision})` : ` (rev ${s.leader.revision})`}`);
  else out.push('leader key: free');
  if (s.sync) out.push(`synchronous set: [${s.sync.members.join(', ')}] (recorded by ${s.sync.leader}${s.syncRevision !== null ? `, rev ${s.syncRevision}` : ''})`);
  if (s.optime) out.push(`published primary position (optime): ${s.optime}${s.optimeRevision !== null ? ` (rev ${s.optimeRevision})` : ''}`);
  return out;
}

/** `rev 812, 1.2 s old` / `rev 812`. */
export function recordedWhen(m: Pick<MemberStatus, 'recordRevision' | 'recordAgeMs'>): string {
  const rev = m.recordRevision !== null ? `rev ${m.recordRevision}` : 'no revision';
  return m.recordAgeMs !== null ? `${rev}, ${(m.recordAgeMs / 1000).toFixed(1)} s old` : rev;
}

export function describeHistory(h: HistoryEntry): string {
  const kind = h.kind === 'manual-failover' ? 'manual failover' : h.kind;
  return `${kind}: ${h.from ?? '?'} → ${h.to} at ${h.at}, timeline ${h.timeline}, took ${seconds(h.durationMs)}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Columns padded to their widest cell; a shorter row (a note in place of cells) neither widens nor is padded. */
function table(header: string[], rows: string[][]): string[] {
  const full = rows.filter((r) => r.length === header.length);
  const widths = header.map((h, i) => Math.max(h.length, ...full.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)];
}
