/**
 * Starting a stopped PostgreSQL read-only (decide.ts `rejoin`). With a leader to follow, the data
 * directory is first made a valid replica of it: pg_rewind (which says "no rewind required" when
 * nothing diverged), and a fresh base backup when there is no data directory, rewind is off, or
 * rewind fails. Without a leader it starts with no upstream and stands for election from there.
 */
import { errorMessage } from '../core/errors.js';
import type { MemberContext } from './member-context.js';
import type { Peer } from './member-observe.js';
import { readPgStatus } from './postgres-process.js';

export type RejoinMethod = 'pg_rewind' | 'basebackup' | 'start';

export interface RejoinOutcome {
  method: RejoinMethod;
  detail: string;
  durationMs: number;
  /** Whether it started following a leader (else: read-only with no upstream). */
  following: boolean;
}

/** Undefined when nothing was started (the leader is not known here, or does not answer as a primary yet). */
export async function rejoin(ctx: MemberContext, leaderName: string | undefined, usePgRewind: boolean, signal: AbortSignal): Promise<RejoinOutcome | undefined> {
  const started = performance.now();
  const leader = leaderName === undefined ? undefined : ctx.peers().find((p) => p.name === leaderName);
  if (leaderName !== undefined && !leader) return undefined;
  let method: RejoinMethod = 'start';
  let detail = 'started read-only';
  try {
    if (leader) {
      // Rewinding against a leader that is not (yet) a primary would see "no rewind required".
      const theirs = await readPgStatus(leader.endpoint, { signal, timeoutMs: ctx.requestTimeoutMs }).catch(() => undefined);
      if (theirs?.role !== 'primary') {
        ctx.log.debug({ leader: leaderName }, 'the leader does not answer as a primary yet; rejoining later');
        return undefined;
      }
      ({ method, detail } = await makeReplicaOf(ctx, leader, usePgRewind, signal));
    } else {
      await ctx.pg.writeStandbyConfig(undefined);
    }
    ctx.setBusy('starting read-only');
    await ctx.pg.start({ signal });
  } finally {
    ctx.setBusy(undefined);
  }
  return { method, detail, durationMs: Math.round(performance.now() - started), following: leader !== undefined };
}

/**
 * A standby that crashed ("in archive recovery") is started as it is: its WAL holds only what it
 * received, and crash recovery outside standby mode (what pg_rewind would run first) would write
 * checkpoints of its own past that point. If it turns out to be ahead of the leader's fork, it does
 * not stream, and the stall rule stops it cleanly; a clean stop is then rewound without crash recovery.
 */
async function makeReplicaOf(ctx: MemberContext, leader: Peer, usePgRewind: boolean, signal: AbortSignal): Promise<{ method: RejoinMethod; detail: string }> {
  const { pg } = ctx;
  const interrupted = await pg.recoverInterruptedRebuild();
  if (pg.hasDataDirectory() && !interrupted) {
    const state = await pg.controlState().catch(() => 'unknown');
    if (state === 'in archive recovery') {
      await pg.writeStandbyConfig(leader.endpoint);
      return { method: 'start', detail: 'crashed standby: started in standby mode without rewind' };
    }
    if (usePgRewind) {
      ctx.setBusy(`rejoining ${leader.name} (pg_rewind)`);
      try {
        return { method: 'pg_rewind', detail: await pg.rewind(leader.endpoint, signal) };
      } catch (err) {
        ctx.log.warn({ err: errorMessage(err), state }, 'pg_rewind failed; taking a fresh base backup instead');
      }
    }
  }
  ctx.setBusy(`rejoining ${leader.name} (base backup)`);
  await pg.rebuild(leader.endpoint, signal);
  return { method: 'basebackup', detail: 'fresh base backup' };
}
