import type { HistoryEntry } from '../../../postgres-ha/keys.js';
import { formatBytes } from '../../progress.js';
import type { DbStatus } from './status.js';

export function renderStatus(s: DbStatus): string {
  const mode = s.synchronous ? 'synchronous' : 'asynchronous';
  const where = s.etcd ? `etcd ${s.etcd.endpoints.join(',')}${s.etcd.reachable ? '' : ' (unreachable)'}` : 'no coordination';
  const lines = [`${s.database}: PostgreSQL, ${mode} replication, ${where}`, ''];
  const rows = s.members.map((m) => [
    `${m.name}${m.leader ? ' *' : ''}`, `${m.host}:${m.port}`, m.role, m.state, m.timeline === null ? '-' : String(m.timeline),
    m.lsn ?? '-', m.lagBytes === null ? '-' : m.role === 'primary' ? '-' : formatBytes(m.lagBytes),
    m.fenced === null ? '-' : m.fenced ? 'FENCED' : 'no', m.inSyncSet === null ? '-' : m.inSyncSet ? 'yes' : 'no',
  ]);
  lines.push(...table(['MEMBER', 'ADDRESS', 'ROLE', 'STATE', 'TL', 'LSN', 'LAG', 'FENCED', 'SYNC'], rows), '');
  if (s.leader) lines.push(`* leader key: ${s.leader.member}${s.leader.lease ? ` (lease ${s.leader.lease})` : ''}`);
  if (s.sync) lines.push(`synchronous set: [${s.sync.members.join(', ')}] (recorded by ${s.sync.leader})`);
  if (s.optime) lines.push(`published primary position (optime): ${s.optime}`);
  if (s.pending.switchover) {
    const p = s.pending.switchover;
    lines.push(`pending: switchover from ${p.from}${p.to ? ` to ${p.to}` : ''}, requested at ${p.requestedAt}`);
  }
  if (s.pending.failover) lines.push(`pending: failover to ${s.pending.failover.to}${s.pending.failover.allowDataLoss ? ' (data loss allowed)' : ''}, requested at ${s.pending.failover.requestedAt}`);
  if (s.lastChange) lines.push(`last ${describeHistory(s.lastChange)}`);
  for (const m of s.members) if (m.error) lines.push(`${m.name}: ${m.error}`);
  for (const note of s.notes) lines.push(`note: ${note}`);
  return lines.join('\n').replace(/\n+$/, '');
}

export function describeHistory(h: HistoryEntry): string {
  const kind = h.kind === 'manual-failover' ? 'manual failover' : h.kind;
  return `${kind}: ${h.from ?? '?'} → ${h.to} at ${h.at}, timeline ${h.timeline}, took ${seconds(h.durationMs)}`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)];
}
