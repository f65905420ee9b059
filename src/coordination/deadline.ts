/** Why a call's own clock aborted it, as opposed to its caller. */
export class TimeoutReason extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutReason';
  }
}

/**
 * One call's signal: aborts when the caller's signal does or when `timeoutMs`
 * passes. Built by hand rather than with AbortSignal.any so that nothing stays
 * attached to a long-lived caller signal after `dispose()` (keepalive loops
 * make millions of calls on one signal).
 */
export class CallDeadline {
  readonly signal: AbortSignal;
  private readonly startedAt = performance.now();
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent?.reason);

  constructor(private readonly parent: AbortSignal | undefined, readonly timeoutMs: number) {
    this.signal = this.controller.signal;
    if (parent?.aborted) {
      this.controller.abort(parent.reason);
      return;
    }
    parent?.addEventListener('abort', this.onParentAbort, { once: true });
    this.timer = setTimeout(() => this.controller.abort(new TimeoutReason(timeoutMs)), Math.max(1, timeoutMs));
  }

  remainingMs(): number {
    return Math.max(1, this.timeoutMs - (performance.now() - this.startedAt));
  }

  get timedOut(): boolean {
    return this.signal.aborted && this.signal.reason instanceof TimeoutReason;
  }

  /** Stop the clock (a stream is open and may now idle); the caller's signal still aborts. */
  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Abort whatever still runs on this signal, e.g. a stream the reader gave up on. */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  dispose(): void {
    this.disarm();
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}
