/**
 * Public types of the health library. The response body follows the shape of the
 * IETF "Health Check Response Format for HTTP APIs" draft (status pass|fail|warn),
 * simplified to one entry per named check.
 */

/** One dependency check. `run` must honour `signal`; a check that ignores it still times out. */
export interface HealthCheck {
  /** Resolves (with optional details to publish) when healthy; rejects or throws when not. */
  run: (signal: AbortSignal) => Promise<unknown>;
  /** Deadline of this check in ms; defaults to the `timeoutMs` of `createHealth`. */
  timeoutMs?: number;
  /** When false, a failure degrades the answer to `warn` (HTTP 200) instead of `fail` (503). Default true. */
  critical?: boolean;
}

export interface HealthOptions {
  checks: Record<string, HealthCheck>;
  /** Default per-check deadline in ms. Default 2000. */
  timeoutMs?: number;
  /** When > 0, a readiness answer is reused for this many ms so a flood of probes does not hammer dependencies. Default 0. */
  cacheMs?: number;
}

export type CheckStatus = 'pass' | 'fail';
export type HealthStatus = 'pass' | 'fail' | 'warn';

export interface CheckResult {
  status: CheckStatus;
  /** Wall time of the check in whole milliseconds. */
  response_time: number;
  /** The value `run` resolved with, when it was not undefined. */
  details?: unknown;
  /** Why the check failed: one line, at most 200 characters, never a stack trace. */
  error?: string;
}

export interface ReadyBody {
  status: HealthStatus;
  /** ISO 8601 time at which the checks finished. */
  timestamp: string;
  checks: Record<string, CheckResult>;
}

export interface ReadyAnswer {
  /** 503 only when a critical check failed. */
  httpStatus: 200 | 503;
  body: ReadyBody;
}

export interface LiveAnswer {
  httpStatus: 200;
  body: { status: 'pass'; timestamp: string };
}

export interface Health {
  /** Shallow liveness: the process answers. Never touches a dependency. */
  live(): LiveAnswer;
  /** Deep readiness: every check, in parallel, each under its own deadline. Never rejects. */
  ready(): Promise<ReadyAnswer>;
}
