/**
 * Waits `ms`, or less when `signal` aborts first. Never rejects (unlike
 * `node:timers/promises`): a loop that sleeps between rounds checks its own
 * signal afterwards. No timer or listener outlives the wait. Resolves `true`
 * when the full wait passed, `false` when the signal cut it short (or had
 * already aborted). `ms <= 0` still yields to the event loop once.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
