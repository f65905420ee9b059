/**
 * Synthetic HTTP traffic: GET `url` at a steady rate, each request on its own
 * timeout, whether or not earlier ones answered (an open model: a stalled
 * service does not slow the arrivals). Every answer is kept for measuring.
 */
export interface RequestResult { sentAt: number; doneAt: number; ok: boolean; status?: number; error?: string }

export interface TrafficOptions { url: string; ratePerSecond: number; timeoutMs: number; onResult?: (r: RequestResult) => void }

/** In flight at most: beyond this the generator skips a beat rather than pile up sockets. */
const MAX_IN_FLIGHT = 512;

export class TrafficGenerator {
  readonly results: RequestResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopAll = new AbortController();
  skipped = 0;

  constructor(private readonly options: TrafficOptions) {
    if (!(options.ratePerSecond > 0)) throw new Error('traffic rate must be positive');
  }

  start(): void {
    const interval = 1000 / this.options.ratePerSecond;
    let next = performance.now();
    const tick = (): void => {
      const now = performance.now();
      // Catch up on missed beats after a slow event-loop turn, at most a second's worth.
      let due = 0;
      while (next <= now && due < this.options.ratePerSecond) { next += interval; due++; }
      if (next <= now) next = now + interval;
      for (let i = 0; i < due; i++) this.fire();
      this.timer = setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  }

  /** Stops sending and waits for the requests in flight (each ends by its timeout at the latest). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Aborts what is in flight too (a drill that is itself aborted). */
  async abort(): Promise<void> {
    this.stopAll.abort();
    await this.stop();
  }

  private fire(): void {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      this.skipped++;
      return;
    }
    const p = this.once().finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async once(): Promise<void> {
    const sentAt = performance.now();
    let result: RequestResult;
    try {
      const res = await fetch(this.options.url, { signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopAll.signal]) });
      await res.arrayBuffer();
      result = { sentAt, doneAt: performance.now(), ok: res.status < 500, status: res.status };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      result = { sentAt, doneAt: performance.now(), ok: false, error: (err as Error).name === 'TimeoutError' ? 'timeout' : cause ?? (err as Error).message };
    }
    this.results.push(result);
    this.options.onResult?.(result);
  }
}
