/**
 * The etcd keys of one managed database, and the records stored in them. The
 * member managers, `bulwark db` and the daemon's API all read and write these;
 * nothing else is shared between them.
 *
 * Under `<prefix>/db/<database>/` (prefix `/bulwark` by default):
 *   leader            member name, bound to the leader's lease
 *   members/<member>  MemberRecord, bound to the member's own lease
 *   sync              SyncRecord: the standbys PostgreSQL may take acknowledgements from
 *   optime            the primary's last published WAL position (asynchronous lag rule)
 *   switchover        SwitchoverRequest, bound to a short lease (written by `bulwark db switchover`)
 *   failover          FailoverRequest, bound to a short lease (written by `bulwark db failover`)
 *   history           HistoryRecord: the last failovers and switchovers, newest last
 */
import type { PgRole } from './decide.js';

export const DEFAULT_PREFIX = '/bulwark';

export function databaseKeys(database: string, prefix = DEFAULT_PREFIX) {
  const base = `${prefix.replace(/\/+$/, '')}/db/${database}`;
  return {
    base,
    leader: `${base}/leader`,
    members: `${base}/members/`,
    member: (name: string) => `${base}/members/${name}`,
    sync: `${base}/sync`,
    optime: `${base}/optime`,
    switchover: `${base}/switchover`,
    failover: `${base}/failover`,
    history: `${base}/history`,
  };
}

export type DatabaseKeys = ReturnType<typeof databaseKeys>;

export interface MemberRecord {
  role: PgRole;
  timeline: number;
  /** Flushed WAL position, `16/B374D848`. */
  lsn: string;
  fenced: boolean;
  host: string;
  port: number;
  /** What the member is doing when it is not simply primary or replica: `rejoining (pg_rewind)`, `base backup`, ... */
  state?: string;
  /** Replica: the member its primary_conninfo points at. */
  following?: string;
  /** Replica: bytes behind the primary's published optime, when known. */
  lagBytes?: number;
  /** ISO time the manager wrote this record (its host's clock); older records have none. `bulwark db status` shows the age. */
  at?: string;
}

export interface SyncRecord {
  leader: string;
  members: string[];
}

/** A planned switchover: the leader hands over to `to` (or the best candidate) once it is caught up. */
export interface SwitchoverRequest {
  /** The leader when the request was made; a request naming another leader is ignored. */
  from: string;
  to?: string;
  requestedAt: string;
  /** Written by the leader once it has chosen the target and is about to stop: the poolers PAUSE now (pooler/pause-barrier.ts). */
  handingOver?: boolean;
}

/** A manual failover: `to` takes the free leader key even when the rules would refuse it. */
export interface FailoverRequest {
  to: string;
  allowDataLoss: boolean;
  requestedAt: string;
}

export interface HistoryEntry {
  kind: 'failover' | 'switchover' | 'manual-failover';
  from: string | undefined;
  to: string;
  timeline: number;
  /** ISO time the new primary accepted writes. */
  at: string;
  /** Measured by the new leader: from the moment it saw the old leader gone (or the handover start) to accepting writes. */
  durationMs: number;
}

export const HISTORY_LIMIT = 20;

/** Short lease for requests: a request nobody acts on disappears by itself. */
export const REQUEST_TTL_SECONDS = 30;
