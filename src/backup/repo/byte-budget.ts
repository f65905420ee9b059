/** A semaphore counted in bytes, first come first served: bounds the data a pipeline holds in memory. */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ bytes: number; resolve: () => void }> = [];

  constructor(readonly limit: number) {}

  /** Waits until `bytes` fit (a request larger than the whole budget waits for all of it). */
  acquire(bytes: number): Promise<void> {
    const n = Math.min(bytes, this.limit);
    if (this.waiting.length === 0 && this.used + n <= this.limit) {
      this.used += n;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ bytes: n, resolve }));
  }

  release(bytes: number): void {
    this.used -= Math.min(bytes, this.limit);
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.bytes <= this.limit) {
      const next = this.waiting.shift()!;
      this.used += next.bytes;
      next.resolve();
    }
  }

  async use<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(bytes);
    try {
      return await fn();
    } finally {
      this.release(bytes);
    }
  }
}
