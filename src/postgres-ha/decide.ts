/**
 * One iteration of a member's HA loop as a pure function (Patroni's rules,
 * simplified): what this member should do, given what it sees right now.
 * No I/O, no clock: the manager gathers the observation and applies the action.
 */

/** What PostgreSQL on this member is doing. `unknown`: running but not answering. */
export type PgRole = 'primary' | 'replica' | 'stopped' | 'unknown';

/** A WAL position as a number of bytes; compare with `<`. */
export type Lsn = bigint;

export interface PeerView {
  name: string;
  /**
   * Seen just now: its member key is in etcd (its manager is alive) AND its
   * PostgreSQL answered our direct question about its WAL position.
   */
  visible: boolean;
  role: PgRole;
  timeline: number;
  /** Flushed WAL position: received for a replica, current for a primary. */
  lsn: Lsn;
}

export interface HaSettings {
  synchronousMode: boolean;
  /**
   * How long the leader key must have been free before a fenced last primary restarts in place
   * (the lease TTL): time for an eligible standby to take over first, as it would within a loop.
   */
  restartInPlaceAfterMs?: number;
  /** Asynchronous mode only: a replica further behind the last known primary position than this may not take over. */
  maximumLagOnFailover: Lsn;
}

/** A pending `bulwark db switchover`: the leader `from` hands over to `to` (or the best candidate). */
export interface SwitchoverIntent { from: string; to: string | undefined }
/** A pending `bulwark db failover --to`: `to` may take the free key, past the rules when `allowDataLoss`. */
export interface FailoverIntent { to: string; allowDataLoss: boolean }

export interface Observation {
  me: string;
  role: PgRole;
  /**
   * This member fenced itself (lease deadline, lost key, PostgreSQL died as primary). It stays down
   * until another member leads; then it rejoins as that leader's replica (pg_rewind or a base backup).
   */
  fenced: boolean;
  /** LeaderLease.isLeader: we hold the key and its validity has not passed. */
  holdsLease: boolean;
  /** Could we read etcd in this iteration? When false, `leader`, `syncSet` and peers are unknown. */
  etcdReachable: boolean;
  /** The leader key's holder (a member name); undefined when the key is absent. */
  leader: string | undefined;
  /** The upstream our replica configuration points at (primary_conninfo), if any. */
  following: string | undefined;
  timeline: number;
  lsn: Lsn;
  peers: readonly PeerView[];
  /** The recorded synchronous set (`/sync`); undefined when none was recorded. */
  syncSet: readonly string[] | undefined;
  /**
   * The `leader` of the recorded synchronous set: the last member that was primary. A leader records
   * itself there before it promotes, so that member holds every acknowledged commit.
   */
  syncLeader?: string | undefined;
  /** How long the leader key has been seen free, in ms (0 when it is held). */
  vacantMs?: number;
  /** The last WAL position the primary published (`/optime`), for the async lag rule. */
  leaderOptime: Lsn | undefined;
  switchover?: SwitchoverIntent | undefined;
  failover?: FailoverIntent | undefined;
  settings: HaSettings;
}

export type Action =
  | { kind: 'stay'; reason: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'acquire-leadership'; reason: string }
  | { kind: 'promote'; reason: string }
  | { kind: 'follow'; leader: string; reason: string }
  /** Start a stopped PostgreSQL read-only (standby.signal), following `leader` when there is one; rewind first if needed. */
  | { kind: 'rejoin'; leader: string | undefined; reason: string }
  /** Planned: stop writes, wait until the target has every WAL byte, give the key up, follow the target. */
  | { kind: 'hand-over'; to: string | undefined; reason: string }
  | { kind: 'fence'; reason: string; resign: boolean };

export function decide(o: Observation): Action {
  if (o.fenced) {
    // A fenced member comes back only as the replica of another leader, through a rewind: its data may have diverged.
    if (o.holdsLease) return { kind: 'fence', reason: 'fenced but still holding the lease: give it up', resign: true };
    if (o.role !== 'stopped') return { kind: 'fence', reason: 'fenced; PostgreSQL still running', resign: false };
    if (o.etcdReachable && o.leader !== undefined && o.leader !== o.me) {
      return { kind: 'rejoin', leader: o.leader, reason: `fenced; ${o.leader} leads: rejoin as its replica` };
    }
    const grace = o.settings.restartInPlaceAfterMs ?? 0;
    if (o.etcdReachable && o.leader === undefined && o.settings.synchronousMode && o.syncLeader === o.me && (o.vacantMs ?? 0) >= grace) {
      // Nobody led since us, so nothing diverged: restart in place (read-only) and stand again.
      return { kind: 'rejoin', leader: undefined, reason: `fenced, but still the last primary and nobody took over in ${grace} ms: start read-only and stand again` };
    }
    return { kind: 'wait', reason: 'fenced; waiting for another member to lead before rejoining' };
  }
  switch (o.role) {
    case 'primary': return decidePrimary(o);
    case 'replica': return decideReplica(o);
    case 'stopped': return decideStopped(o);
    case 'unknown':
      return o.holdsLease
        ? { kind: 'stay', reason: 'PostgreSQL does not answer; keeping the lease while it may recover' }
        : { kind: 'wait', reason: 'PostgreSQL does not answer' };
  }
}

function decidePrimary(o: Observation): Action {
  if (o.holdsLease) {
    if (o.etcdReachable && o.leader !== undefined && o.leader !== o.me) {
      return { kind: 'fence', reason: `the leader key names ${o.leader}, not us`, resign: true };
    }
    if (o.switchover && o.switchover.from === o.me && o.switchover.to !== o.me) {
      return { kind: 'hand-over', to: o.switchover.to, reason: `switchover requested${o.switchover.to ? ` to ${o.switchover.to}` : ''}` };
    }
    // LeaderLease renews in the background; its deadline fences us if renewals stop working.
    return { kind: 'stay', reason: 'primary holding the leader lease' };
  }
  if (!o.etcdReachable) return { kind: 'fence', reason: 'primary without a lease and etcd unreachable', resign: false };
  if (o.leader === undefined) {
    // A running primary nobody else replaced (e.g. the first start): take the key back.
    return { kind: 'acquire-leadership', reason: 'primary and the leader key is free' };
  }
  if (o.leader === o.me) return { kind: 'fence', reason: 'the leader key names us under a lease we do not hold', resign: false };
  return { kind: 'fence', reason: `${o.leader} holds the leader key: demote`, resign: false };
}

function decideReplica(o: Observation): Action {
  if (o.holdsLease) return { kind: 'promote', reason: 'we hold the leader lease' };
  if (!o.etcdReachable) return { kind: 'wait', reason: 'etcd unreachable; a replica changes nothing' };
  if (o.leader === o.me) return { kind: 'wait', reason: 'the key names us under an old lease; waiting for it to expire' };
  if (o.leader !== undefined) {
    if (o.following === o.leader) return { kind: 'stay', reason: `replica of ${o.leader}` };
    return { kind: 'follow', leader: o.leader, reason: `${o.leader} holds the leader key` };
  }
  if (o.failover) {
    if (o.failover.to !== o.me) return { kind: 'wait', reason: `manual failover to ${o.failover.to} requested` };
    if (o.failover.allowDataLoss) return { kind: 'acquire-leadership', reason: 'manual failover to us, data loss allowed' };
  }
  if (o.switchover?.to !== undefined && o.switchover.to !== o.me) return { kind: 'wait', reason: `switchover to ${o.switchover.to} in progress` };
  const refusal = candidacyRefusal(o, o.switchover?.to === o.me || o.failover?.to === o.me);
  if (refusal) return { kind: 'wait', reason: refusal };
  return { kind: 'acquire-leadership', reason: 'the leader key is free and we are the best candidate' };
}

function decideStopped(o: Observation): Action {
  if (o.holdsLease) {
    // Patroni would restart PostgreSQL in place; we give leadership away at once so a standby takes over.
    return { kind: 'fence', reason: 'PostgreSQL is down while we hold the lease', resign: true };
  }
  if (!o.etcdReachable || o.leader === undefined || o.leader === o.me) {
    // Read-only until this member wins the key: the only way to become writable is promotion under the lease.
    return { kind: 'rejoin', leader: undefined, reason: 'stopped, no other leader: start read-only and stand for election' };
  }
  return { kind: 'rejoin', leader: o.leader, reason: `start as a replica of ${o.leader}` };
}

/**
 * Why we may not take the free leader key; undefined when we may. `named`: a switchover or manual
 * failover names us, so a rival as advanced as we are does not make us step aside.
 */
export function candidacyRefusal(o: Observation, named = false): string | undefined {
  const s = o.settings;
  let rivals: readonly PeerView[];
  if (s.synchronousMode) {
    const set = o.syncSet ?? [];
    // The last primary itself (crashed, restarted read-only) has every commit it acknowledged.
    if (o.syncLeader === o.me) return undefined;
    if (!set.includes(o.me)) return `not in the recorded synchronous set [${set.join(', ')}]`;
    // ANY 1: an acknowledged commit is on at least one member of the set, not necessarily us.
    // Only when every other member of the set is visible can the most advanced of us be sure to hold it.
    const others = set.filter((n) => n !== o.me);
    const unseen = others.filter((n) => !o.peers.some((p) => p.name === n && p.visible && p.role !== 'stopped'));
    if (unseen.length > 0) return `synchronous standby ${unseen.join(', ')} not visible: it may hold commits we lack`;
    rivals = o.peers.filter((p) => others.includes(p.name));
  } else {
    if (o.leaderOptime !== undefined && o.leaderOptime - o.lsn > s.maximumLagOnFailover) {
      return `lag ${o.leaderOptime - o.lsn} bytes exceeds maximum_lag_on_failover ${s.maximumLagOnFailover}`;
    }
    rivals = o.peers.filter((p) => p.visible && p.role === 'replica');
  }
  const better = rivals.find((p) => ahead(p, o) && !(named && p.timeline === o.timeline && p.lsn === o.lsn));
  return better ? `${better.name} is more advanced (or equal with a lower name)` : undefined;
}

/** Whether `p` beats us: higher timeline, then further WAL, then the lower name breaks a tie. */
function ahead(p: PeerView, o: Observation): boolean {
  if (p.timeline !== o.timeline) return p.timeline > o.timeline;
  if (p.lsn !== o.lsn) return p.lsn > o.lsn;
  return p.name < o.me;
}

/** Parses `16/B374D848` into bytes. */
export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(text.trim());
  if (!m) throw new RangeError(`not an LSN: ${text}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * The synchronous set changes in Patroni's order so that the recorded set is
 * always a superset of the standbys PostgreSQL may take acknowledgements from:
 * first record recorded ∪ wanted, then apply `wanted` in PostgreSQL, then
 * record exactly `wanted`. Returns the steps still to do, in order.
 */
export type SyncStep = { kind: 'record'; members: string[] } | { kind: 'apply'; members: string[] };

export function syncSteps(recorded: readonly string[], applied: readonly string[], wanted: readonly string[]): SyncStep[] {
  const want = [...new Set(wanted)].sort();
  const steps: SyncStep[] = [];
  const union = [...new Set([...recorded, ...want])].sort();
  let last = recorded;
  if (!sameSet(applied, want)) {
    if (!sameSet(recorded, union) && want.some((n) => !recorded.includes(n))) {
      steps.push({ kind: 'record', members: union });
      last = union;
    }
    steps.push({ kind: 'apply', members: want });
  }
  if (!sameSet(last, want)) steps.push({ kind: 'record', members: want });
  return steps;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((n) => y.has(n));
}
