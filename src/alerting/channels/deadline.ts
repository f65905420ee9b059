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
  private grace: NodeJS.Immediate | undefined;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent.reason);

  constructor(private readonly parent: AbortSignal, readonly timeoutMs: number) {
    if (parent.aborted) {
      this.controller.abort(parent.reason);
      return;
    }
    parent.addEventListener('abort', this.onParentAbort, { once: true });
    // In one turn of the event loop timers run before I/O callbacks: a loop starved past the
    // timeout would give up on an answer that has already arrived, and the send would be
    // retried (a duplicate). The abort waits for the I/O of that turn first.
    this.timer = setTimeout(() => {
      this.grace = setImmediate(() => this.controller.abort(new DeadlineExceeded(timeoutMs)));
    }, Math.max(1, timeoutMs));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get timedOut(): boolean {
    return this.signal.reason instanceof DeadlineExceeded;
  }

  dispose(): void {
    clearTimeout(this.timer);
    clearImmediate(this.grace);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}
