import { BulwarkError } from '../core/errors.js';
import { CallDeadline } from './deadline.js';
import { encode, int, toKeyValue, type KeyValue, type RawKeyValue } from './etcd-codec.js';
import { parseStatus, statusError, unreachableError } from './etcd-errors.js';
import type { EtcdTransport } from './etcd-transport.js';

export interface WatchEvent {
  type: 'put' | 'delete';
  /** For a delete: the key and the revision of the deletion; the value is empty. */
  kv: KeyValue;
  revision: number;
}

interface RawWatchResult {
  created?: boolean;
  canceled?: boolean;
  cancel_reason?: string;
  compact_revision?: string;
  events?: { type?: string; kv?: RawKeyValue }[];
}

/**
 * Changes to one key from `fromRevision` on, over the gateway's streaming
 * `/v3/watch` (one JSON message per line). `timeoutMs` bounds only the opening:
 * an open watch may idle for ever, and a silently cut connection looks exactly
 * like an idle one, so callers that must notice a cut pair the watch with a
 * poll or a timer. Ends quietly when `signal` aborts; throws when the stream breaks
 * (`context.nextRevision` says where to resume) or the revision was compacted.
 */
export async function* watchKey(
  transport: EtcdTransport, key: string, fromRevision: number, signal: AbortSignal, timeoutMs?: number,
): AsyncGenerator<WatchEvent, void, undefined> {
  const deadline = new CallDeadline(signal, timeoutMs ?? transport.timeoutMs);
  let endpoint = '?';
  let next = fromRevision;
  try {
    const create = { create_request: { key: encode(key), start_revision: String(fromRevision) } };
    const stream = await transport.stream('/v3/watch', create, deadline);
    endpoint = stream.endpoint;
    for await (const line of lines(stream.body)) {
      const result = parseMessage(line, endpoint, key);
      if (result.created) deadline.disarm();
      checkCanceled(result, endpoint, key);
      for (const event of result.events ?? []) {
        const kv = toKeyValue(event.kv ?? {});
        next = kv.modRevision + 1;
        yield { type: event.type === 'DELETE' ? 'delete' : 'put', kv, revision: kv.modRevision };
      }
    }
    if (signal.aborted) return;
    throw brokenWatch(`etcd ${endpoint} closed the watch on ${key}`, next);
  } catch (err) {
    if (signal.aborted) return;
    if (deadline.timedOut) throw unreachableError('/v3/watch', [`${endpoint} (no answer)`], deadline.timeoutMs, false);
    if (err instanceof BulwarkError) throw err;
    throw brokenWatch(`the watch on ${key} at ${endpoint} broke: ${(err as Error).message}`, next, err);
  } finally {
    deadline.abort();
    deadline.dispose();
  }
}

function parseMessage(line: string, endpoint: string, key: string): RawWatchResult {
  let message: unknown;
  try {
    message = JSON.parse(line) as unknown;
  } catch (err) {
    throw new BulwarkError('COORDINATION_REJECTED', `etcd ${endpoint} sent a watch message on ${key} that is not JSON`, {
      hint: 'Bulwark needs etcd 3.4 or later; is a proxy rewriting the stream?', cause: err,
    });
  }
  const status = parseStatus(message);
  if (status) throw statusError(status, `watch ${key}`, endpoint);
  return ((message as { result?: RawWatchResult }).result ?? {});
}

function checkCanceled(result: RawWatchResult, endpoint: string, key: string): void {
  if (!result.canceled) return;
  const compactRevision = int(result.compact_revision);
  if (compactRevision > 0) {
    throw new BulwarkError('WATCH_COMPACTED', `etcd ${endpoint} compacted the history of ${key} past the revision asked for`, {
      hint: 'read the key again and watch from the revision of that read plus one',
      context: { endpoint, compactRevision },
    });
  }
  throw statusError({ code: 3, message: result.cancel_reason ?? 'watch canceled' }, `watch ${key}`, endpoint);
}

function brokenWatch(message: string, nextRevision: number, cause?: unknown): BulwarkError {
  return new BulwarkError('COORDINATION_UNAVAILABLE', message, {
    hint: `read the key again and watch from revision ${nextRevision}`,
    context: { nextRevision },
    cause,
  });
}

async function* lines(body: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield line;
    }
  }
  if (buffered.trim()) yield buffered.trim();
}
