/**
 * Synthetic HTTP traffic: GET `url` at a steady rate, each request on its own
 * timeout, whether or not earlier ones answered (an open model: a stalled
 * service does not slow the arrivals). Every answer is kept for measuring.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface RequestResult { sentAt: number; doneAt: number; ok: boolean; status?: number; error?: string }

export interface TrafficOptions { url: string; ratePerSecond: number; timeoutMs: number; onResult?: (r: RequestResult) => void }

/** In flight at most: beyond this the generator skips a beat rather than pile up sockets. */
const MAX_IN_FLIGHT = 512;

export class TrafficGenerator {
  readonly results: RequestResult[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopAll = new AbortController();
  private readonly url: URL;
  private readonly agent: HttpAgent;
  skipped = 0;

  constructor(private readonly options: TrafficOptions) {
    if (!(options.ratePerSecond > 0)) throw new Error('traffic rate must be positive');
    this.url = new URL(options.url);
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT }) : new HttpAgent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
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
    this.agent.destroy();
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
      const status = await this.get();
      result = { sentAt, doneAt: performance.now(), ok: status < 500, status };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      result = { sentAt, doneAt: performance.now(), ok: false, error: e.name === 'TimeoutError' ? 'timeout' : e.code ?? e.message };
    }
    this.results.push(result);
    this.options.onResult?.(result);
  }

  /**
   * One GET on node:http with a keep-alive agent: several times cheaper in CPU
   * than fetch, so that on a loaded machine the generator measures the
   * service, not its own queue (with fetch, its queue timed requests out).
   */
  private get(): Promise<number> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopAll.signal]);
    return new Promise<number>((resolve, reject) => {
      const req = (this.url.protocol === 'https:' ? httpsRequest : httpRequest)(this.url, { agent: this.agent, signal }, (res) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode ?? 0));
        // A connection cut mid-body ends the response without 'end': a failure now, not a timeout later.
        res.on('close', () => { if (!res.complete) reject(Object.assign(new Error('the connection closed before the response ended'), { code: 'ECONNRESET' })); });
        res.resume();
      });
      req.on('error', (err) => reject(signal.aborted && signal.reason instanceof Error ? signal.reason : err));
      req.end();
    });
  }
}
