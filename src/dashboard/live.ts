import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { StatusEvents } from './deps.js';

export interface StatusChange {
  /** `service/NAME`, `database/NAME` or `target/ID`: what the page's data-status cells name. */
  key: string;
  status: string;
  at: number;
}

/** Open streams at most: each holds a connection. */
const MAX_STREAMS = 100;
const KEEPALIVE_MS = 15_000;

/**
 * One subscription to the event bus, fanned out to every open stream, so the
 * bus's listener count does not grow with the number of browsers.
 */
export class LiveStatus {
  private readonly streams = new Set<(change: StatusChange) => void>();

  private readonly wakers = new Set<() => void>();

  constructor(bus: StatusEvents, private readonly stopping?: AbortSignal) {
    stopping?.addEventListener('abort', () => {
      for (const wake of this.wakers) wake();
    }, { once: true });
    bus.on('owner.state', (e) => this.publish({ key: `${e.kind}/${e.name}`, status: e.to, at: e.at }));
    bus.on('target.state', (e) => this.publish({ key: `target/${e.target.id}`, status: e.to, at: e.at }));
  }

  get size(): number {
    return this.streams.size;
  }

  /** `alive`: checked at every keepalive; the stream ends with the session. */
  stream(c: Context, alive: () => boolean): Response {
    if (this.streams.size >= MAX_STREAMS) return c.text('too many live streams; reload later', 503);
    if (this.stopping?.aborted) return c.text('the daemon is stopping', 503);
    return streamSSE(c, async (sse) => {
      const queue: StatusChange[] = [];
      let wake: (() => void) | undefined;
      const wakeUp = (): void => wake?.();
      this.wakers.add(wakeUp);
      const listener = (change: StatusChange): void => {
        queue.push(change);
        wake?.();
      };
      this.streams.add(listener);
      sse.onAbort(() => {
        this.streams.delete(listener);
        wake?.();
      });
      try {
        await sse.writeSSE({ event: 'hello', data: '{}' });
        while (!sse.aborted && !sse.closed && alive() && !this.stopping?.aborted) {
          for (const change of queue.splice(0)) await sse.writeSSE({ event: 'status', data: JSON.stringify(change) });
          await new Promise<void>((resolve) => {
            // Whatever arrived while the last write was pending found no waiter to wake.
            if (queue.length > 0 || sse.aborted || this.stopping?.aborted) return resolve();
            wake = resolve;
            setTimeout(resolve, KEEPALIVE_MS).unref();
          });
          if (queue.length === 0 && !sse.aborted && !this.stopping?.aborted) await sse.write(': keepalive\n\n');
        }
      } finally {
        this.streams.delete(listener);
        this.wakers.delete(wakeUp);
      }
    });
  }

  private publish(change: StatusChange): void {
    for (const send of this.streams) send(change);
  }
}
