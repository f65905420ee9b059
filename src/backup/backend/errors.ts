import { BulwarkError, errnoCode } from '../../core/errors.js';
import type { FileKind } from './types.js';

/** Network-level errno codes worth retrying: the far end may be back in a moment. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_NOT_CONNECTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function isTransientNetworkError(err: unknown): boolean {
  const code = errnoCode(err);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || errnoCode(err) === 'ABORT_ERR');
}

export function notFound(location: string, kind: FileKind, name: string, cause?: unknown): BulwarkError {
  return new BulwarkError('NOT_FOUND', `${kind} file "${name}" does not exist in ${location}`, {
    hint: 'check the repository location; if files went missing, run a repository check',
    cause,
    context: { kind, name },
  });
}

export function diskFull(location: string, cause?: unknown): BulwarkError {
  return new BulwarkError('DISK_FULL', `no space left in ${location}`, {
    hint: 'free space there (prune old snapshots, remove other files) or back up to another repository',
    cause,
  });
}

/**
 * `transient` unavailability is retried by withRetries; a permanent one
 * (permission denied, bad credentials, read-only file system) is not.
 */
export function unavailable(message: string, hint: string, options: { cause?: unknown; transient: boolean }): BulwarkError {
  return new BulwarkError('BACKEND_UNAVAILABLE', message, { hint, cause: options.cause, context: { transient: options.transient } });
}

/** The retry rule: transient unavailability and raw network errors; never a missing file, bad usage or a full disk. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof BulwarkError) return err.code === 'BACKEND_UNAVAILABLE' && err.context.transient !== false;
  if (isAbortError(err)) return false;
  return isTransientNetworkError(err);
}
