/** What the pieces of one member's HA loop share: its PostgreSQL, etcd, its keys, its lease and its peers. */
import type { EtcdClient, LeaderLease } from '../coordination/index.js';
import { errorMessage, isBulwarkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DatabaseKeys } from './keys.js';
import type { Peer } from './member-observe.js';
import type { PostgresMember } from './postgres-process.js';

export interface MemberContext {
  readonly pg: PostgresMember;
  readonly etcd: EtcdClient;
  readonly keys: DatabaseKeys;
  readonly lease: LeaderLease;
  readonly log: Logger;
  readonly requestTimeoutMs: number;
  /** Every other member now (a reload may change them). */
  peers(): readonly Peer[];
  /** The long operation under way, for the snapshot's state; undefined when it ends. */
  setBusy(text: string | undefined): void;
}

/** A switchover or failover request as read this iteration: its revision guards deleting or rewriting it. */
export type PendingRequest<T> = T & { revision: number; lease: string | undefined };

/** Deletes a switchover or failover request, if it is still the one we read. */
export async function clearRequest(ctx: MemberContext, kind: 'switchover' | 'failover', revision: number | undefined): Promise<void> {
  if (revision === undefined) return;
  await ctx.etcd.deleteIfRevision(ctx.keys[kind], revision, { timeoutMs: ctx.requestTimeoutMs })
    .catch((err: unknown) => ctx.log.warn({ err: errorMessage(err), kind }, 'could not clear the request; it expires with its lease'));
}

/** PostgreSQL's last lines when the error carries them (a failed start): the FATAL that says why. */
export function postgresOutput(err: unknown): { postgres?: string[] } {
  const output = isBulwarkError(err) ? err.context.output : undefined;
  return typeof output === 'string' ? { postgres: output.trim().split('\n').slice(-5) } : {};
}

/** True when `work` settles before `deadline` aborts (always, without a deadline). */
export async function settlesBefore(work: Promise<unknown>, deadline?: AbortSignal): Promise<boolean> {
  if (!deadline) {
    await work.catch(() => undefined);
    return true;
  }
  if (deadline.aborted) return false;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<false>((resolve) => {
    onAbort = () => resolve(false);
    deadline.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work.then(() => true, () => true), aborted]);
  } finally {
    if (onAbort) deadline.removeEventListener('abort', onAbort);
  }
}
