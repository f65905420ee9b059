import { setTimeout as sleep } from 'node:timers/promises';
import { BulwarkError } from '../../core/errors.js';
import { isRetryable } from './errors.js';
import type { Backend } from './types.js';

export interface RetryOptions {
  /** Tries in all, the first included (1 = no retry). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Stops waiting and retrying (the current try gets it too). */
  signal?: AbortSignal;
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  operation: 'create' | 'stat' | 'read' | 'write' | 'remove' | 'list';
  /** The try that failed, from 1. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

/**
 * A backend that retries transient failures (BACKEND_UNAVAILABLE marked
 * transient, network errors) with exponential backoff and jitter. Never
 * NOT_FOUND, USAGE, DISK_FULL or permanent failures. Writes are safe to
 * retry: they are atomic, and a name always holds the same content.
 */
export function withRetries(backend: Backend, options: RetryOptions): Backend {
  checkOptions(options);
  const retry = <T>(operation: RetryEvent['operation'], signal: AbortSignal | undefined, fn: (signal?: AbortSignal) => Promise<T>): Promise<T> =>
    retrying(options, operation, combine(options.signal, signal), fn);
  return {
    location: backend.location,
    create: (signal) => retry('create', signal, (s) => backend.create(s)),
    stat: (kind, name, signal) => retry('stat', signal, (s) => backend.stat(kind, name, s)),
    read: (kind, name, range, signal) => retry('read', signal, (s) => backend.read(kind, name, range, s)),
    write: (kind, name, data, signal) => retry('write', signal, (s) => backend.write(kind, name, data, s)),
    remove: (kind, name, signal) => retry('remove', signal, (s) => backend.remove(kind, name, s)),
    list: (kind, signal) => retry('list', signal, (s) => backend.list(kind, s)),
    close: () => backend.close(),
  };
}

async function retrying<T>(options: RetryOptions, operation: RetryEvent['operation'], signal: AbortSignal | undefined, fn: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(signal);
    } catch (error) {
      if (attempt >= options.attempts || signal?.aborted || !isRetryable(error)) throw error;
      const delayMs = backoff(options, attempt);
      options.onRetry?.({ operation, attempt, delayMs, error });
      await sleep(delayMs, undefined, { signal });
    }
  }
}

/** "Equal jitter": half the exponential step for sure, half at random, so retries spread out but still back off. */
export function backoff(options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>, attempt: number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  return a && b ? AbortSignal.any([a, b]) : (a ?? b);
}

function checkOptions(options: RetryOptions): void {
  const ok = Number.isInteger(options.attempts) && options.attempts >= 1 && options.baseDelayMs >= 0 && options.maxDelayMs >= options.baseDelayMs;
  if (!ok) {
    throw new BulwarkError('USAGE', `invalid retry options: attempts=${options.attempts}, baseDelayMs=${options.baseDelayMs}, maxDelayMs=${options.maxDelayMs}`, {
      hint: 'attempts is a whole number of at least 1, and 0 <= baseDelayMs <= maxDelayMs (for example 5, 200, 10000)',
    });
  }
}
