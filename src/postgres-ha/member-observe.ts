/**
 * What one member sees at the start of an HA loop iteration: its own PostgreSQL
 * (read by the caller) and the HA contract's keys in etcd, turned into the
 * `Observation` that `decide` takes. A candidate asks its peers' PostgreSQL for
 * their positions directly: the published records are up to a loop old.
 */
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Observation, PeerView } from './decide.js';
import { decodeLsn, readHaState, type HaReader, type HaState, type Versioned } from './ha-state.js';
import type { DatabaseKeys, MemberRecord } from './keys.js';
import type { PgEndpoint } from './pg-query.js';
import { readPgStatus, type PgStatus } from './postgres-process.js';

export interface Peer {
  name: string;
  endpoint: PgEndpoint;
  /** `replication: asynchronous`: never in the synchronous set, so never a candidate in synchronous mode. */
  asynchronous?: boolean;
}

/** The peers that may be synchronous standbys. */
export function synchronousPeers(peers: readonly Peer[]): string[] {
  return peers.filter((p) => !p.asynchronous).map((p) => p.name);
}

export interface ObserveInput {
  me: string;
  status: PgStatus;
  peers: readonly Peer[];
  etcd: HaReader;
  keys: DatabaseKeys;
  requestTimeoutMs: number;
  fenced: boolean;
  holdsLease: boolean;
  /** How long the leader key has been seen free, in ms (0 when it is held). */
  vacantMs: number;
  settings: Observation['settings'];
}

/** The observation, and the keys it was made from (undefined when etcd could not be read). */
export interface Observed {
  observation: Observation;
  state: HaState | undefined;
}

export async function observeCluster(input: ObserveInput, signal: AbortSignal, log: Logger): Promise<Observed> {
  const { status, peers } = input;
  const call = { signal, timeoutMs: input.requestTimeoutMs };
  const base = {
    me: input.me, role: status.role, fenced: input.fenced, holdsLease: input.holdsLease, vacantMs: input.vacantMs,
    following: peers.find((p) => p.endpoint.port === status.upstream?.port && p.endpoint.host === status.upstream.host)?.name,
    timeline: status.timeline, lsn: status.lsn, settings: input.settings,
  };
  let state: HaState;
  try {
    state = await readHaState(input.etcd, input.keys, peers.map((p) => p.name), call, { history: false });
  } catch (err) {
    log.debug({ err: errorMessage(err) }, 'etcd unreachable');
    return { observation: { ...base, etcdReachable: false, leader: undefined, peers: [], syncSet: undefined, leaderOptime: undefined }, state: undefined };
  }
  if (state.malformed.length > 0) log.warn({ keys: state.malformed }, 'etcd keys with a malformed value are read as absent');
  const sync = state.sync?.value;
  const live = state.leader === undefined && status.role === 'replica';
  const views = await Promise.all(peers.map((p) => peerView(p, state.members.get(p.name), live, signal, input.requestTimeoutMs)));
  const switchover = state.switchover?.value;
  const failover = state.failover?.value;
  return {
    observation: {
      ...base, etcdReachable: true, leader: state.leader?.value, peers: views, syncSet: sync?.members, syncLeader: sync?.leader,
      leaderOptime: state.optime?.value,
      switchover: switchover && { from: switchover.from, to: switchover.to },
      failover: failover && { to: failover.to, allowDataLoss: failover.allowDataLoss },
    },
    state,
  };
}

/** A peer as a candidate must weigh it: a fenced or unrecorded peer is not visible. */
async function peerView(peer: Peer, published: Versioned<MemberRecord> | undefined, live: boolean, signal: AbortSignal, timeoutMs: number): Promise<PeerView> {
  const record = published?.value;
  const missing: PeerView = { name: peer.name, visible: false, role: record?.role ?? 'stopped', timeline: record?.timeline ?? 0, lsn: record ? (decodeLsn(record.lsn) ?? 0n) : 0n };
  if (!record) return missing;
  if (!live) return { ...missing, visible: !record.fenced };
  try {
    const s = await readPgStatus(peer.endpoint, { signal, timeoutMs });
    return { name: peer.name, visible: !record.fenced, role: s.role, timeline: s.timeline, lsn: s.lsn };
  } catch {
    return missing;
  }
}
