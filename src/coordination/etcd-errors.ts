import { BulwarkError } from '../core/errors.js';

/** A failed call as etcd reports it: a gRPC status code and message. */
export interface EtcdStatus {
  code: number;
  message: string;
}

const NOT_FOUND = 5;
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;
const UNAUTHENTICATED = 16;
/** Codes that say "the cluster cannot serve right now", not "your request is wrong". */
const TRANSIENT = new Set([4 /* deadline */, 8 /* exhausted */, 10 /* aborted */, 13 /* internal */, UNAVAILABLE]);

/**
 * The status in a gateway answer, if it holds one. Unary calls answer
 * `{error, message, code}`; streaming calls (keepalive, watch) answer
 * `{error: {grpc_code, message}}`.
 */
export function parseStatus(body: unknown): EtcdStatus | undefined {
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const { error, message, code } = body as { error: unknown; message?: unknown; code?: unknown };
  if (typeof error === 'object' && error !== null) {
    const inner = error as { grpc_code?: unknown; message?: unknown };
    return { code: Number(inner.grpc_code ?? 2), message: String(inner.message ?? 'unknown error') };
  }
  return { code: Number(code ?? 2), message: String(message ?? error) };
}

/** etcd refused before proposing anything, so another member may serve the same request safely. */
export function isSafeElsewhere(status: EtcdStatus): boolean {
  return /no leader|not capable|server stopped/.test(status.message);
}

export function isTransient(status: EtcdStatus): boolean {
  return TRANSIENT.has(status.code);
}

/** The token expired or the member forgot it (restarts drop simple tokens): authenticate again. */
export function isStaleToken(status: EtcdStatus): boolean {
  return status.code === UNAUTHENTICATED && /invalid auth token/.test(status.message);
}

export function statusError(status: EtcdStatus, operation: string, endpoint: string): BulwarkError {
  const context = { operation, endpoint, grpcCode: status.code };
  const what = `etcd ${endpoint} refused ${operation}: ${status.message}`;
  if (status.code === NOT_FOUND && /lease not found/.test(status.message)) {
    return new BulwarkError('LEASE_LOST', `etcd lease is gone (${operation} at ${endpoint})`, {
      hint: 'the lease expired or was revoked; whatever it protected is no longer held: campaign again with a fresh lease',
      context,
    });
  }
  const auth = authHint(status);
  if (auth) return new BulwarkError('COORDINATION_AUTH_FAILED', what, { hint: auth, context });
  if (isTransient(status)) {
    return new BulwarkError('COORDINATION_UNAVAILABLE', what, {
      hint: 'etcd answered but cannot serve: usually quorum is lost or a leader election is under way; check `etcdctl endpoint status --cluster`',
      context,
    });
  }
  return new BulwarkError('COORDINATION_REJECTED', what, {
    hint: 'etcd refused the request as malformed or not allowed; Bulwark needs etcd 3.4 or later with the v3 API',
    context,
  });
}

function authHint(status: EtcdStatus): string | undefined {
  if (status.code === PERMISSION_DENIED) return 'the etcd user lacks a role that allows this; grant it read and write on the coordination key prefix';
  if (status.code === UNAUTHENTICATED) return 'etcd did not accept the credentials; check the coordination username and password';
  if (/authentication failed/.test(status.message)) return 'wrong etcd username or password; check the coordination credentials';
  if (/user name is empty/.test(status.message)) return 'the etcd cluster has authentication enabled: set a coordination username and password';
  return undefined;
}

/** No endpoint served the call: timeouts, refusals, resets, members without a leader. */
export function unreachableError(operation: string, tried: readonly string[], timeoutMs: number, ambiguous: boolean): BulwarkError {
  const unknown = ambiguous ? '; the request may or may not have been applied' : '';
  return new BulwarkError('COORDINATION_UNAVAILABLE', `etcd unavailable: no endpoint served ${operation} within ${timeoutMs} ms (tried ${tried.join(', ')})${unknown}`, {
    hint: 'check that etcd runs and that this host reaches the configured endpoints (`etcdctl --endpoints=... endpoint health`); a majority of members must be up',
    context: { operation, tried, timeoutMs, ambiguous },
  });
}
