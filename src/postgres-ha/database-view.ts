/**
 * What `GET /api/v1/databases[/NAME]` shows of one PostgreSQL database: every
 * configured member with, for those on this host, its manager's snapshot,
 * and from etcd (when configured) the leader, the synchronous set, each
 * member's published record and the failover history.
 */
import type { EtcdClient } from '../coordination/index.js';
import { errorMessage } from '../core/errors.js';
import type { DatabaseHaPlan } from './ha-config.js';
import { readHaState } from './ha-state.js';
import { databaseKeys, type HistoryEntry, type MemberRecord, type SyncRecord } from './keys.js';
import type { MemberSnapshot } from './member-manager.js';

export interface MemberView {
  name: string;
  host: string;
  port: number;
  /** Run by this daemon (the member has data_dir). */
  local: boolean;
  health_port: number | null;
  /**
   * This daemon's view of a local member, as its manager saw it at its last loop (in memory, not
   * asked of PostgreSQL for this request); null for members elsewhere or not running here.
   */
  snapshot: {
    role: string; leader: boolean; fenced: boolean; state: string; timeline: number; lsn: string;
    following: string | null; lag_bytes: number | null;
  } | null;
  /**
   * What the member last published in etcd (its manager is alive while the key exists); null when absent.
   * `mod_revision`: the etcd revision of that write; `at`/`age_ms`: its publish time, when the record carries one.
   */
  record: {
    role: string; timeline: number; lsn: string; fenced: boolean; state: string | null; following: string | null; lag_bytes: number | null;
    mod_revision: number; at: string | null; age_ms: number | null;
  } | null;
}

export interface DatabaseView {
  name: string;
  kind: 'postgres';
  /** automatic: coordination.etcd is set; off: without etcd there is no leader election. */
  failover: 'automatic' | 'off';
  /** Whether this daemon runs member managers for this database now. */
  managed_here: boolean;
  leader: string | null;
  sync: SyncRecord | null;
  members: MemberView[];
  /** The last failovers and switchovers, newest first. */
  history: Array<{ kind: HistoryEntry['kind']; from: string | null; to: string; timeline: number; at: string; duration_ms: number }>;
  /** etcd's revision when leader, sync, records and history were read; null when etcd was not read. */
  etcd_revision: number | null;
  /** Set when etcd could not be read: leader, sync, records and history are then unknown (null/empty). */
  etcd_error?: string;
}

export type EtcdReader = Pick<EtcdClient, 'get'>;

interface EtcdFacts {
  leader: string | null;
  sync: SyncRecord | null;
  records: Map<string, { record: MemberRecord; modRevision: number }>;
  history: HistoryEntry[];
  revision: number | null;
}

export async function readDatabaseView(
  plan: DatabaseHaPlan,
  snapshots: ReadonlyMap<string, MemberSnapshot>,
  managedHere: boolean,
  etcd: EtcdReader | undefined,
  timeoutMs = 2000,
): Promise<DatabaseView> {
  let facts: EtcdFacts = { leader: null, sync: null, records: new Map(), history: [], revision: null };
  const now = Date.now();
  let etcdError: string | undefined;
  if (etcd && plan.etcd) {
    try {
      facts = await readFacts(plan, etcd, timeoutMs);
    } catch (err) {
      etcdError = errorMessage(err);
    }
  }
  const localNames = new Set(plan.local.map((m) => m.name));
  const members = plan.members.map((m): MemberView => {
    const local = plan.local.find((l) => l.name === m.name);
    const snapshot = snapshots.get(m.name);
    const published = facts.records.get(m.name);
    const record = published?.record;
    const at = record?.at !== undefined && Number.isFinite(Date.parse(record.at)) ? record.at : null;
    return {
      name: m.name, host: m.endpoint.host, port: m.endpoint.port, local: localNames.has(m.name), health_port: local?.healthPort ?? null,
      snapshot: snapshot ? {
        role: snapshot.role, leader: snapshot.leader, fenced: snapshot.fenced, state: snapshot.state, timeline: snapshot.timeline,
        lsn: snapshot.lsn, following: snapshot.following ?? null, lag_bytes: snapshot.lagBytes ?? null,
      } : null,
      record: record ? {
        role: record.role, timeline: record.timeline, lsn: record.lsn, fenced: record.fenced, state: record.state ?? null,
        following: record.following ?? null, lag_bytes: record.lagBytes ?? null,
        mod_revision: published.modRevision, at, age_ms: at ? Math.max(0, now - Date.parse(at)) : null,
      } : null,
    };
  });
  return {
    name: plan.database, kind: 'postgres', failover: plan.etcd ? 'automatic' : 'off', managed_here: managedHere,
    leader: facts.leader, sync: facts.sync, members, etcd_revision: facts.revision,
    history: [...facts.history].reverse().map((h) => ({ kind: h.kind, from: h.from ?? null, to: h.to, timeline: h.timeline, at: h.at, duration_ms: h.durationMs })),
    ...(etcdError !== undefined ? { etcd_error: etcdError } : {}),
  };
}

async function readFacts(plan: DatabaseHaPlan, etcd: EtcdReader, timeoutMs: number): Promise<EtcdFacts> {
  const state = await readHaState(etcd, databaseKeys(plan.database, plan.prefix), plan.members.map((m) => m.name), { timeoutMs }, { requests: false });
  return {
    leader: state.leader?.value ?? null,
    sync: state.sync?.value ?? null,
    records: new Map([...state.members].map(([name, r]) => [name, { record: r.value, modRevision: r.modRevision }])),
    history: state.history?.value ?? [],
    revision: state.revision,
  };
}
