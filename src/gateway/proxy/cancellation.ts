/**
 * A request's cancellation: the overall deadline passed or the client went away.
 * Not an AbortController per request: creating one and adding EventTarget
 * listeners to it was a measurable share of the proxy's CPU per request. An
 * AbortSignal is made only for the code that needs one (a queued concurrency slot).
 */
export class Cancellation {
  private listeners: Array<(reason: unknown) => void> = [];
  private controller: AbortController | undefined;
  aborted = false;
  reason: unknown = undefined;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener(reason);
    this.controller?.abort(reason);
  }

  /** Runs `listener` once on abort; the returned function unsubscribes. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.aborted) {
      listener(this.reason);
      return () => undefined;
    }
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}

export class TimeoutReason extends Error {
  constructor(readonly scope: 'per_try' | 'overall') {
    super(`${scope} timeout`);
    this.name = 'TimeoutReason';
  }
}
