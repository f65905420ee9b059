import type { CheckContext, CheckResult, FailureReason, Observations } from '../types.js';

/** Measures one check run and builds its result. */
export class Stopwatch {
  private readonly startedAt = performance.now();

  elapsed(): number {
    return Math.round((performance.now() - this.startedAt) * 10) / 10;
  }

  pass(observations: Observations = {}): CheckResult {
    return { ok: true, durationMs: this.elapsed(), observations };
  }

  fail(reason: FailureReason, message: string, observations: Observations = {}): CheckResult {
    return { ok: false, durationMs: this.elapsed(), reason, message, observations };
  }
}

/**
 * Calls `onAbort` once when the context's signal aborts or its timeout passes
 * (whichever is first; a caller's signal may outlive `timeoutMs`). Returns the
 * cleanup, to be called in `finally`.
 */
export function onDeadline(context: CheckContext, onAbort: () => void): () => void {
  let fired = false;
  const fire = (): void => {
    if (fired) return;
    fired = true;
    cleanup();
    onAbort();
  };
  const timer = setTimeout(fire, Math.max(0, context.timeoutMs));
  context.signal.addEventListener('abort', fire, { once: true });
  function cleanup(): void {
    clearTimeout(timer);
    context.signal.removeEventListener('abort', fire);
  }
  // Deferred, so the caller's own cleanup binding exists when onAbort runs.
  if (context.signal.aborted) queueMicrotask(fire);
  return cleanup;
}

export function timeoutMessage(context: CheckContext): string {
  return `timed out after ${context.timeoutMs} ms`;
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

const NETWORK_REASONS: Record<string, FailureReason> = {
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'refused',
  ENETUNREACH: 'refused',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NODATA: 'dns',
  ETIMEDOUT: 'timeout',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ECONNABORTED: 'reset',
};

/** Maps a socket, DNS, TLS or HTTP parser error to a failure reason and a readable line. */
export function classifyError(error: unknown): { reason: FailureReason; message: string } {
  const err = error as NodeJS.ErrnoException | undefined;
  const code = typeof err?.code === 'string' ? err.code : '';
  const text = err instanceof Error ? err.message : String(error);
  const message = code && !text.includes(code) ? `${text} (${code})` : text;
  return { reason: reasonFor(code, text), message };
}

function reasonFor(code: string, text: string): FailureReason {
  const network = NETWORK_REASONS[code];
  if (network) return network;
  if (TLS_CODES.has(code) || /^ERR_(TLS|SSL)_/.test(code) || /^ERR_OSSL_/.test(code)) return 'tls';
  if (code.startsWith('HPE_')) return 'protocol';
  if (/socket hang up/i.test(text)) return 'reset';
  return 'error';
}
