import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BulwarkError, type ErrorCode } from '../core/errors.js';

/** The one place where error codes become HTTP statuses. */
const STATUS: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  AUTH_REQUIRED: 401,
  AUTH_INVALID: 401,
  NOT_FOUND: 404,
  /** The thing asked for is busy (a backup run already going, a repository locked): try again later. */
  REPO_LOCKED: 409,
  DATA_DIR_LOCKED: 409,
  BAD_REQUEST: 400,
  CONFIG_INVALID: 422,
  CONFIG_SYNTAX: 422,
  STORE_UNAVAILABLE: 503,
  NOT_READY: 503,
};

export function statusOf(err: unknown): ContentfulStatusCode {
  return err instanceof BulwarkError ? (STATUS[err.code] ?? 500) : 500;
}

export function errorBody(err: unknown): { error: { code: string; message: string; hint?: string } } {
  if (err instanceof BulwarkError) return { error: err.toJSON() };
  return { error: { code: 'INTERNAL', message: 'internal error; see the daemon log' } };
}
