/**
 * Typed errors with stable codes. Every error a user can meet says what is
 * wrong and what to do about it (`hint`). Codes are part of the public surface:
 * scripts match on them, so never rename one.
 */
export type ErrorCode =
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_INVALID'
  | 'SECRET_UNRESOLVED'
  | 'STORE_SCHEMA_TOO_NEW'
  | 'STORE_UNAVAILABLE'
  | 'STORE_MIGRATION_FAILED'
  | 'AUTH_REQUIRED'
  | 'AUTH_INVALID'
  | 'NOT_FOUND'
  | 'BAD_REQUEST'
  | 'USAGE'
  /** A server could not listen on its address (in use, not permitted, not on this machine). */
  | 'LISTEN_FAILED'
  | 'CERTIFICATE_INVALID'
  | 'API_UNREACHABLE'
  | 'REPO_NOT_FOUND'
  | 'REPO_EXISTS'
  | 'REPO_WRONG_PASSWORD'
  | 'REPO_CORRUPT'
  | 'REPO_LOCKED'
  | 'DATA_DIR_LOCKED'
  | 'BACKEND_UNAVAILABLE'
  | 'DISK_FULL'
  | 'COORDINATION_UNAVAILABLE'
  | 'COORDINATION_REJECTED'
  | 'COORDINATION_AUTH_FAILED'
  | 'WATCH_COMPACTED'
  | 'LEASE_LOST'
  | 'NOT_READY'
  | 'INTERNAL';

export interface BulwarkErrorOptions {
  hint?: string;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class BulwarkError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: BulwarkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BulwarkError';
    this.code = code;
    this.hint = options.hint;
    this.context = options.context ?? {};
  }

  /** One line for a terminal: message, then what to do. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }

  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

export function isBulwarkError(err: unknown): err is BulwarkError {
  return err instanceof BulwarkError;
}

/** The `code` of a Node.js system error (`ENOENT`, `EACCES`…) or of any thrown value that has a string one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Message of any thrown value, for logs: never the stack of a secret-bearing object. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
