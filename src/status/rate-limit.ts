/**
 * A token bucket per client address: `perMinute` requests a minute, in bursts
 * of up to `perMinute`. At most `maxClients` buckets are kept; the least
 * recently seen is dropped first, so a flood of addresses costs bounded memory
 * (a dropped client starts again with a full bucket).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private perMinute: number, private readonly now: () => number = Date.now, private readonly maxClients = 10_000) {}

  setRate(perMinute: number): void {
    this.perMinute = perMinute;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token; when none is left, the seconds until one is. */
  take(client: string): { ok: true } | { ok: false; retryAfterS: number } {
    const now = this.now();
    const perMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(client);
    const tokens = bucket === undefined ? this.perMinute : Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * perMs);
    this.buckets.delete(client);
    if (this.buckets.size >= this.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
    if (tokens < 1) {
      this.buckets.set(client, { tokens, at: now });
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
    }
    this.buckets.set(client, { tokens: tokens - 1, at: now });
    return { ok: true };
  }
}
