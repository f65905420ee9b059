/**
 * The probes contract. A check type runs one probe of one target and returns
 * a result; it never throws for a failing target (a failure is a result with a
 * reason), it honours `signal` exactly, and it bounds what it reads.
 */
export type FailureReason =
  | 'timeout'
  | 'refused'
  | 'dns'
  | 'tls'
  | 'status'
  | 'condition'
  | 'body_too_large'
  | 'protocol'
  | 'reset'
  | 'auth'
  | 'exit_code'
  | 'error';

export interface CheckResult {
  ok: boolean;
  /** Wall time from start to result, in milliseconds. */
  durationMs: number;
  /** Set when ok is false. */
  reason?: FailureReason;
  /** One line a person can read: "HTTP 503", "connect ECONNREFUSED 127.0.0.1:9001", "condition failed: status == 200 (was 503)". */
  message?: string;
  /** Facts the check observed, for conditions, history and other subsystems. */
  observations: Observations;
}

export interface Observations {
  status?: number;
  /** Days until the TLS certificate expires (negative when expired). */
  certExpiresInDays?: number;
  role?: 'primary' | 'replica';
  /** Replication lag of a replica, from its own view. */
  lagBytes?: number;
  lagSeconds?: number;
  exitCode?: number;
  [key: string]: unknown;
}

export interface CheckContext {
  /** Aborts at the check's timeout (or when the daemon stops). */
  signal: AbortSignal;
  timeoutMs: number;
}

/** One implementation per file, registered by name. */
export interface CheckType<TSpec> {
  readonly type: string;
  run(spec: TSpec, context: CheckContext): Promise<CheckResult>;
}

/** Default bound on what a check reads from a target. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
