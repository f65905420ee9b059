import type { CheckResult, HealthCheck } from './types.js';

/** Longest error message published in a check result. */
export const MAX_ERROR_LENGTH = 200;

class CheckTimeout extends Error {
  constructor(ms: number) {
    super(`timeout after ${ms}ms`);
    this.name = 'CheckTimeout';
  }
}

/**
 * One line describing a thrown value: the message only, with any stack frames
 * that leaked into it removed, whitespace collapsed and cut to 200 characters.
 */
export function describeError(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : safeString(err);
  const text = raw
    .split('\n')
    .filter((line) => !/^\s*at\s/.test(line))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  const message = text === '' ? (err instanceof Error ? err.name : 'check failed') : text;
  return message.length <= MAX_ERROR_LENGTH ? message : `${message.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'check failed';
  }
}

/**
 * Runs one check under its deadline. The signal handed to the check aborts at the
 * deadline; the result is a timeout at the deadline even if the check ignores it.
 * The timer and the listener are always cleared.
 */
export async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const controller = new AbortController();
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason);
    controller.signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => controller.abort(new CheckTimeout(timeoutMs)), timeoutMs);
  });
  try {
    const details: unknown = await Promise.race([Promise.resolve().then(() => check.run(controller.signal)), deadline]);
    return { status: 'pass', response_time: elapsed(started), ...(details === undefined ? {} : { details }) };
  } catch (err) {
    const reason = controller.signal.aborted ? controller.signal.reason : err;
    return { status: 'fail', response_time: elapsed(started), error: describeError(reason) };
  } finally {
    clearTimeout(timer);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
