/**
 * The two readings `bulwark db status` puts side by side: the database's keys
 * in etcd with the revision each was last written at (recorded facts), and a
 * primary's replication as PostgreSQL reports it now (live facts).
 */
import type { CallOptions, EtcdClient } from '../coordination/index.js';
import { errorMessage } from '../core/errors.js';
import { etcdViewOf, type EtcdView } from './control.js';
import { readHaState } from './ha-state.js';
import type { DatabaseKeys } from './keys.js';
import { withClient, type PgEndpoint, type QueryOptions } from './pg-query.js';

/** What etcd holds, with the mod revision of each key that exists (etcd keeps revisions, not times). */
export interface RecordedView {
  view: EtcdView;
  /** etcd's revision when it answered. */
  revision: number;
  revisions: { leader?: number; sync?: number; optime?: number; members: Record<string, number> };
}

export async function readRecorded(etcd: Pick<EtcdClient, 'get'>, keys: DatabaseKeys, members: readonly string[], call: CallOptions = {}): Promise<RecordedView> {
  const state = await readHaState(etcd, keys, members, call);
  return {
    view: etcdViewOf(state),
    revision: state.revision,
    revisions: {
      ...(state.leader ? { leader: state.leader.modRevision } : {}), ...(state.sync ? { sync: state.sync.modRevision } : {}),
      ...(state.optime ? { optime: state.optime.modRevision } : {}),
      members: Object.fromEntries([...state.members].map(([name, r]) => [name, r.modRevision])),
    },
  };
}

/** One row of a primary's pg_stat_replication. */
export interface WalSender {
  applicationName: string;
  /** The role the standby connected as (`usename`). */
  user: string | null;
  /** `streaming`, `catchup`, `startup`, ... */
  state: string | null;
  /** `async`, `potential`, `sync`, `quorum`. */
  syncState: string | null;
}

/** A primary's replication, asked just now; `error` instead when it did not answer. */
export type ReplicationRead =
  | { member: string; inRecovery: boolean; synchronousStandbyNames: string; senders: WalSender[] }
  | { member: string; error: string };

export async function readReplication(member: string, endpoint: PgEndpoint, options: QueryOptions): Promise<ReplicationRead> {
  try {
    return await withClient(endpoint, options, async (c) => {
      const settings = await c.query<{ recovery: boolean; names: string }>(
        "SELECT pg_is_in_recovery() AS recovery, current_setting('synchronous_standby_names') AS names");
      const rows = await c.query<{ name: string; usename: string | null; state: string | null; sync_state: string | null }>(
        'SELECT application_name AS name, usename, state, sync_state FROM pg_stat_replication ORDER BY application_name, pid');
      return {
        member, inRecovery: settings.rows[0]?.recovery ?? true, synchronousStandbyNames: settings.rows[0]?.names ?? '',
        senders: rows.rows.map((r) => ({ applicationName: r.name, user: r.usename, state: r.state, syncState: r.sync_state })),
      };
    });
  } catch (err) {
    return { member, error: errorMessage(err).replace(/^PostgreSQL at [^:]+:\d+: /, '') };
  }
}

/**
 * The standby names a `synchronous_standby_names` value lists, whatever its form:
 * `ANY 1 ("m2", "m3")`, `FIRST 2 (m2, m3)`, `2 (m2, m3)`, `m2, m3`, `*`; empty for ''.
 * PostgreSQL matches them against application_name without regard to case.
 */
export function standbyNames(value: string): string[] {
  const text = value.trim();
  const list = /^(?:(?:ANY|FIRST)\s+)?\d+\s*\((.*)\)$/is.exec(text)?.[1] ?? text;
  const names: string[] = [];
  for (const m of list.matchAll(/\s*("(?:[^"]|"")*"|[^,]+)\s*(?:,|$)/g)) {
    const raw = (m[1] ?? '').trim();
    const name = raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw;
    if (name) names.push(name);
  }
  return names;
}

/** PostgreSQL's own error when it answered with one, else the socket's, in a few words. */
export function shortReason(error: string): string {
  const first = error.split('\n')[0] ?? error;
  if (/ECONNREFUSED/.test(first)) return 'connection refused';
  if (/ENOTFOUND|EAI_AGAIN/.test(first)) return 'host not found';
  if (/EHOSTUNREACH|ENETUNREACH/.test(first)) return 'host unreachable';
  if (/ETIMEDOUT|timeout|timed out/i.test(first)) return 'no answer in time';
  if (/ECONNRESET|Connection terminated/i.test(first)) return 'connection closed before it answered';
  return first.length > 80 ? `${first.slice(0, 77)}...` : first;
}
