/**
 * Planned switchover, as the leader (decide.ts `hand-over`): choose the target first and name it in
 * the request, then a fast shutdown (the WAL senders ship everything up to the shutdown checkpoint),
 * wait until the target has received past that checkpoint, give the key up, and start again read-only
 * as the target's replica. The target, which sees the request name it, takes the key and promotes.
 * When the target does not catch up in time, this member starts again and, still holding the lease,
 * promotes itself back at the next loop.
 */
import { formatLsn, parseLsn, type Lsn } from './decide.js';
import type { SwitchoverRequest } from './keys.js';
import { sleep } from '../core/time.js';
import { clearRequest, type MemberContext, type PendingRequest } from './member-context.js';
import type { Peer } from './member-observe.js';
import { queryRows } from './pg-query.js';
import { readPgStatus } from './postgres-process.js';
import { waitForPoolersPaused } from './pooler/pause-barrier.js';

type Call = { signal: AbortSignal; timeoutMs: number };

export interface HandoverOutcome {
  to: string | undefined;
  ok: boolean;
  detail: string;
  pauseMs: number;
}

export interface HandoverInput {
  to: string | undefined;
  request: PendingRequest<SwitchoverRequest> | undefined;
  /** Synchronous mode: the recorded set, from which a target must come. Undefined in asynchronous mode. */
  recordedSet: readonly string[] | undefined;
}

/** Hands over, or refuses; undefined when it gave up before stopping anything (the request changed). */
export async function handOver(ctx: MemberContext, input: HandoverInput, signal: AbortSignal): Promise<HandoverOutcome | undefined> {
  const { pg, log } = ctx;
  const call = { signal, timeoutMs: ctx.requestTimeoutMs };
  const streaming = await pg.streamingStandbys(call);
  const eligible = ctx.peers().filter((p) => streaming.includes(p.name) && (input.to === undefined || p.name === input.to));
  const target = input.to === undefined ? await bestCandidate(eligible, input.recordedSet, call) : eligible[0];
  if (!target) {
    const detail = input.to ? `${input.to} is not a streaming standby of ${pg.name}` : 'no streaming standby to hand over to';
    log.error({ to: input.to }, `switchover refused: ${detail}`);
    await clearRequest(ctx, 'switchover', input.request?.revision);
    return { to: input.to, ok: false, detail, pauseMs: 0 };
  }
  // Chosen first, then named in the request: the standbys apply the request's rule, so the one we wait for is the one that takes over.
  // The same write says we are handing over: the poolers PAUSE on it.
  let request = input.request;
  if (request) {
    request = await nameTarget(ctx, request, target.name, call);
    if (!request) return undefined;
  }
  // PgBouncer on the gateway hosts: transactions in flight finish and new ones queue before we stop (pooler/pause-barrier.ts).
  if (request) {
    ctx.setBusy('waiting for the poolers to pause');
    const poolers = await waitForPoolersPaused(ctx.etcd, ctx.keys.base, request.requestedAt, log, signal);
    if (poolers.poolers > 0) log.info({ ...poolers, waitedMs: Math.round(poolers.waitedMs) }, 'poolers paused for the switchover');
  }
  ctx.setBusy(`handing over to ${target.name}`);
  const started = performance.now();
  try {
    await pg.stop();
    const checkpoint = await pg.checkpointLsn();
    if (!(await waitReceived(ctx, target, checkpoint, 5000, signal))) {
      log.error({ to: target.name, checkpoint: formatLsn(checkpoint) }, 'switchover aborted: the target did not receive the last WAL in 5 s; staying primary');
      await pg.start({ signal });
      await clearRequest(ctx, 'switchover', request?.revision);
      return { to: target.name, ok: false, detail: 'target did not catch up', pauseMs: performance.now() - started };
    }
    await pg.writeStandbyConfig(target.endpoint);
    await ctx.lease.resign(call);
    log.info({ to: target.name, checkpoint: formatLsn(checkpoint) }, 'handed the leader key over');
    await pg.start({ signal });
    return { to: target.name, ok: true, detail: `handed over at ${formatLsn(checkpoint)}`, pauseMs: performance.now() - started };
  } finally {
    ctx.setBusy(undefined);
  }
}

/**
 * The target when none was asked for, by the candidates' own rule: in synchronous mode a member of the
 * recorded set; then the higher timeline, the further WAL, the lower name.
 */
async function bestCandidate(peers: readonly Peer[], recordedSet: readonly string[] | undefined, call: Call): Promise<Peer | undefined> {
  const inSet = recordedSet === undefined ? peers : peers.filter((p) => recordedSet.includes(p.name));
  let best: { peer: Peer; timeline: number; lsn: Lsn } | undefined;
  for (const peer of inSet) {
    const s = await readPgStatus(peer.endpoint, call).catch(() => undefined);
    if (!s) continue;
    const beats = !best || s.timeline > best.timeline || (s.timeline === best.timeline && (s.lsn > best.lsn || (s.lsn === best.lsn && peer.name < best.peer.name)));
    if (beats) best = { peer, timeline: s.timeline, lsn: s.lsn };
  }
  return best?.peer;
}

/** Writes the chosen target and `handingOver` into the pending request (same lease); undefined when the request changed or is gone. */
async function nameTarget(ctx: MemberContext, pending: PendingRequest<SwitchoverRequest> | undefined, target: string, call: Call): Promise<PendingRequest<SwitchoverRequest> | undefined> {
  if (!pending) return undefined;
  const { revision, lease, ...request } = pending;
  const result = await ctx.etcd.compareAndSwap(ctx.keys.switchover, revision, JSON.stringify({ ...request, to: target, handingOver: true } satisfies SwitchoverRequest), lease, call);
  if (!result.succeeded) {
    ctx.log.warn({ to: target }, 'the switchover request changed while choosing its target; looking again at the next loop');
    return undefined;
  }
  ctx.log.info({ to: target }, 'switchover target chosen');
  return { ...pending, to: target, handingOver: true, revision: result.revision };
}

/** Whether `peer` received WAL past `lsn` within `timeoutMs`. */
async function waitReceived(ctx: MemberContext, peer: Peer, lsn: Lsn, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until && !signal.aborted) {
    const rows = await queryRows<{ r: string | null }>(peer.endpoint, 'SELECT pg_last_wal_receive_lsn()::text AS r', [], { signal, timeoutMs: ctx.requestTimeoutMs }).catch(() => []);
    const received = rows[0]?.r;
    if (received && parseLsn(received) > lsn) return true;
    await sleep(20, signal);
  }
  return false;
}
