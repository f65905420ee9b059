/**
 * Token buckets per client key, with a hard bound on memory.
 *
 * Each key has a bucket of `burst` tokens refilled at `ratePerSecond`; a request takes
 * one token. `burst` defaults to one second's worth, ceil(ratePerSecond), at least 1.
 * A denied take reports `retryAfterMs`, the wait until one whole token is back:
 * rate 10/s, burst 5, five takes at t=0 → the sixth is denied with retryAfterMs 100.
 *
 * Memory: at most `maxKeys` buckets. A full bucket is the same as no bucket, so full
 * buckets are dropped whenever they are seen (and by `prune()`); when a new key arrives
 * with the table full, the least recently used bucket is evicted. An evicted bucket that
 * was not yet full is forgiven its debt: the bound wins over exactness, and the LRU
 * bucket is the one least likely to be in debt.
 */
export interface TokenBucketsOptions {
  ratePerSecond: number;
  burst?: number;
  maxKeys?: number;
  now?: () => number;
}

export interface TakeResult {
  allowed: boolean;
  /** 0 when allowed; else ms until a token is available. */
  retryAfterMs: number;
  /** Whole tokens left after this take. */
  remaining: number;
}

interface Bucket { tokens: number; at: number }

export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** Map order is recency order: oldest first. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: TokenBucketsOptions) {
    if (!(opts.ratePerSecond > 0)) throw new RangeError('TokenBuckets needs ratePerSecond > 0');
    this.#rate = opts.ratePerSecond;
    this.#burst = opts.burst ?? Math.max(1, Math.ceil(opts.ratePerSecond));
    if (!(this.#burst >= 1)) throw new RangeError('TokenBuckets needs burst >= 1');
    this.#maxKeys = Math.max(1, opts.maxKeys ?? 100_000);
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string): TakeResult {
    const now = this.#now();
    const tokens = this.#tokensOf(key, now);
    this.#buckets.delete(key);
    if (tokens >= 1) {
      this.#store(key, { tokens: tokens - 1, at: now });
      return { allowed: true, retryAfterMs: 0, remaining: Math.floor(tokens - 1) };
    }
    this.#store(key, { tokens, at: now });
    return { allowed: false, retryAfterMs: Math.ceil(((1 - tokens) * 1000) / this.#rate), remaining: 0 };
  }

  /** Drops every bucket that has refilled to full; O(keys), for a periodic timer. */
  prune(): number {
    const now = this.#now();
    let dropped = 0;
    for (const key of [...this.#buckets.keys()]) {
      if (this.#tokensOf(key, now) >= this.#burst) {
        this.#buckets.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  #tokensOf(key: string, now: number): number {
    const b = this.#buckets.get(key);
    if (!b) return this.#burst;
    return Math.min(this.#burst, b.tokens + (Math.max(0, now - b.at) * this.#rate) / 1000);
  }

  #store(key: string, b: Bucket): void {
    while (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done) break;
      this.#buckets.delete(oldest.value);
    }
    this.#buckets.set(key, b);
  }
}

export interface RequestLike {
  remoteAddress?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The rate-limit key of a request for the config's `rate_limit.key`:
 *
 * - `client_ip`: the socket's peer address, never a header (X-Forwarded-For is written
 *   by the client unless a trusted proxy sits in front). IPv4-mapped IPv6 addresses
 *   (::ffff:1.2.3.4) are folded to IPv4. A missing address gives `ip:unknown`, one
 *   shared bucket.
 * - `header:NAME`: that header's value. If the header is missing or empty the key FALLS
 *   BACK TO THE CLIENT IP, so omitting the header buys no extra budget beyond one IP's.
 *   For `header:x-forwarded-for` the LAST entry is used: it is the one the nearest
 *   proxy appended, the only one a client cannot forge; choose this key only behind a
 *   proxy that appends it.
 *
 * Keys are prefixed (`ip:`, `hdr:`) so a header value cannot collide with an address.
 */
export function clientKey(req: RequestLike, key: string): string {
  if (key.startsWith('header:')) {
    const name = key.slice('header:'.length).toLowerCase();
    const value = headerValue(req.headers[name], name === 'x-forwarded-for');
    if (value) return `hdr:${value}`;
  }
  return `ip:${normaliseIp(req.remoteAddress)}`;
}

function headerValue(raw: string | string[] | undefined, lastEntry: boolean): string | undefined {
  const joined = Array.isArray(raw) ? raw.join(',') : raw;
  if (joined === undefined) return undefined;
  const value = lastEntry ? (joined.split(',').pop() ?? '') : joined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function normaliseIp(addr: string | undefined): string {
  if (!addr) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(addr);
  return mapped?.[1] ?? addr.toLowerCase();
}
