/**
 * The handshake that lets a planned switchover wait for the poolers. Each
 * running pooler keeps a record under `<base>/poolers/<id>`, bound to its own
 * lease (a pooler that dies drops out by itself). When the leader marks the
 * switchover request `handingOver` (it has chosen the target), the pooler PAUSEs PgBouncer (transactions in flight finish, new ones queue)
 * and writes the request's `requestedAt` into `pausedFor`. The leader, before
 * its fast shutdown, waits until every record says `pausedFor` that request,
 * for at most the longest `pauseTimeoutMs` among them (+2 s, capped below the
 * request's own 30 s lease), and then goes on in any case.
 */
import type { EtcdClient } from '../../coordination/index.js';
import { sleep } from '../../core/time.js';
import type { Logger } from '../../core/logger.js';

export interface PoolerRecord {
  /** Where clients connect (the pooler's listen address). */
  listen: string;
  /** The switchover request (its `requestedAt`) this pooler has paused for; absent when not paused for one. */
  pausedFor?: string;
  /** Whether PAUSE finished before `pauseTimeoutMs` (false: transactions were still in flight). */
  drained?: boolean;
  pauseTimeoutMs: number;
  at: string;
}

export function poolersPrefix(base: string): string {
  return `${base}/poolers/`;
}

export function parsePoolerRecord(value: string): PoolerRecord | undefined {
  try {
    const r = JSON.parse(value) as Partial<PoolerRecord>;
    return typeof r.listen === 'string' && typeof r.pauseTimeoutMs === 'number' ? (r as PoolerRecord) : undefined;
  } catch {
    return undefined;
  }
}

const CAP_MS = 25_000;

export interface PoolerWaitResult {
  poolers: number;
  paused: number;
  waitedMs: number;
}

/** The leader's side: waits (bounded) until every registered pooler has paused for `requestedAt`. */
export async function waitForPoolersPaused(
  etcd: Pick<EtcdClient, 'getPrefix'>, base: string, requestedAt: string, log: Logger, signal: AbortSignal,
): Promise<PoolerWaitResult> {
  const started = performance.now();
  let bound: number | undefined;
  for (;;) {
    const records = await readRecords(etcd, base);
    if (records.length === 0) return { poolers: 0, paused: 0, waitedMs: 0 };
    bound ??= Math.min(CAP_MS, Math.max(...records.map((r) => r.record.pauseTimeoutMs)) + 2000);
    const paused = records.filter((r) => r.record.pausedFor === requestedAt);
    const waitedMs = performance.now() - started;
    if (paused.length === records.length) {
      const undrained = paused.filter((r) => r.record.drained === false).map((r) => r.id);
      if (undrained.length > 0) log.warn({ poolers: undrained }, 'poolers paused with transactions still in flight (pause_timeout passed); those transactions will fail');
      return { poolers: records.length, paused: paused.length, waitedMs };
    }
    if (waitedMs > bound || signal.aborted) {
      log.warn({ waiting: records.filter((r) => r.record.pausedFor !== requestedAt).map((r) => r.id), waitedMs: Math.round(waitedMs) },
        'switchover goes on without every pooler paused; their clients may see errors');
      return { poolers: records.length, paused: paused.length, waitedMs };
    }
    await sleep(20, signal).catch(() => undefined);
  }
}

async function readRecords(etcd: Pick<EtcdClient, 'getPrefix'>, base: string): Promise<Array<{ id: string; record: PoolerRecord }>> {
  const prefix = poolersPrefix(base);
  const kvs = await etcd.getPrefix(prefix, { timeoutMs: 1000 }).catch(() => []);
  return kvs.flatMap((kv) => {
    const record = parsePoolerRecord(kv.value);
    return record ? [{ id: kv.key.slice(prefix.length), record }] : [];
  });
}
