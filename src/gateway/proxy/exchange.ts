import type { Dispatcher } from 'undici';
import type { HeaderMap } from './hop-headers.js';

export interface ExchangeHead {
  status: number;
  headers: HeaderMap;
}

/** Where a response body goes: the client, or nowhere (a response thrown away before a retry). */
export interface BodySink {
  /** Returns false when the sink is full; the exchange pauses until `resume()`. */
  write(chunk: Buffer): boolean;
  end(): void;
  fail(err: Error): void;
}

/** Body bytes held while nobody has claimed the response yet (the retry decision is pending). */
const UNCLAIMED_LIMIT = 64 * 1024;
/** A discarded response body is read this far to keep its connection, then cut. */
const DISCARD_LIMIT = 128 * 1024;

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * One request to one upstream on undici's dispatch API: a promise for the
 * response head, then body chunks handed straight to a sink with backpressure.
 * Not undici.request(): its AbortSignal, Readable body and the extra event-loop
 * turn before a response could end were most of the proxy's own CPU per request,
 * and the turn added latency.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler {
  readonly head: Promise<ExchangeHead>;
  /** Why the exchange was cancelled (a TimeoutReason, the client leaving), if it was. */
  cancelReason: unknown = undefined;
  private resolveHead!: (head: ExchangeHead) => void;
  private rejectHead!: (err: unknown) => void;
  private headSettled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private sink: BodySink | undefined;
  private unclaimed: Buffer[] = [];
  private unclaimedBytes = 0;
  private ended = false;
  private failure: Error | undefined;

  constructor() {
    this.head = new Promise<ExchangeHead>((resolve, reject) => {
      this.resolveHead = resolve;
      this.rejectHead = reject;
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelReason !== undefined) controller.abort(asError(this.cancelReason));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: HeaderMap): void {
    if (statusCode < 200 || this.headSettled) return; // 1xx informational: the final head follows
    this.headSettled = true;
    this.resolveHead({ status: statusCode, headers });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.sink) {
      if (!this.sink.write(chunk)) controller.pause();
      return;
    }
    this.unclaimed.push(chunk);
    this.unclaimedBytes += chunk.length;
    if (this.unclaimedBytes >= UNCLAIMED_LIMIT) controller.pause();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.sink?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    if (!this.headSettled) {
      this.headSettled = true;
      this.rejectHead(err);
      return;
    }
    if (this.ended || this.failure) return;
    this.failure = err;
    this.sink?.fail(err);
  }

  /** Stops the exchange. Before the head arrived, `head` rejects at once with the reason. */
  cancel(reason: unknown): void {
    if (this.cancelReason !== undefined || this.ended) return;
    this.cancelReason = reason;
    if (!this.headSettled) {
      this.headSettled = true;
      this.rejectHead(reason);
    }
    this.controller?.abort(asError(reason));
  }

  /** Hands the body to `sink`: what arrived so far at once, the rest as it comes. */
  attach(sink: BodySink): void {
    this.sink = sink;
    let open = true;
    for (const chunk of this.unclaimed) open = sink.write(chunk);
    this.unclaimed = [];
    this.unclaimedBytes = 0;
    if (this.ended) sink.end();
    else if (this.failure) sink.fail(this.failure);
    else if (open) this.controller?.resume();
  }

  resume(): void {
    this.controller?.resume();
  }

  /** Throws the body away; a small one is read to the end so its keep-alive connection survives. */
  discard(): Promise<void> {
    if (this.ended || this.failure) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let read = 0;
      this.attach({
        write: (chunk) => {
          read += chunk.length;
          if (read > DISCARD_LIMIT) this.cancel(new Error('discarded response body too large to drain'));
          return true;
        },
        end: resolve,
        fail: () => resolve(),
      });
    });
  }
}
