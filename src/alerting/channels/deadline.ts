/** Marks an abort as ours (the time ran out) rather than the caller's. */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * A signal that aborts when the caller's does or after `timeoutMs`. Not
 * AbortSignal.any: the caller's signal is long-lived (the outbox worker's), and
 * nothing may stay attached to it after one delivery, so `dispose` detaches.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent.reason);

  constructor(private readonly parent: AbortSignal, readonly timeoutMs: number) {
    if (parent.aborted) {
      this.controller.abort(parent.reason);
      return;
    }
    parent.addEventListener('abort', this.onParentAbort, { once: true });
    this.timer = setTimeout(() => this.controller.abort(new DeadlineExceeded(timeoutMs)), Math.max(1, timeoutMs));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get timedOut(): boolean {
    return this.signal.reason instanceof DeadlineExceeded;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}
