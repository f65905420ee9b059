import { createHmac, randomBytes } from 'node:crypto';

/** 16 bytes of HMAC-SHA256, base64url: 22 characters, 128 bits. */
const VALUE_BYTES = 16;

/**
 * Sticky-session cookie values: an HMAC of the endpoint id under a secret, so
 * clients never see endpoint ids or addresses and cannot aim at an endpoint of
 * their choice by forging a cookie. The secret is random per process by default
 * (sessions re-stick once after a restart); gateways that share sessions pass
 * the same secret.
 */
export class StickyCodec {
  readonly #secret: Buffer;
  readonly #byValue = new Map<string, string>();
  readonly #byId = new Map<string, string>();

  constructor(secret?: string | Uint8Array) {
    this.#secret = secret === undefined ? randomBytes(32) : Buffer.from(secret);
    if (this.#secret.length < 16) throw new RangeError('sticky secret must be at least 16 bytes');
  }

  /** The cookie value for an endpoint id. */
  encode(id: string): string {
    const known = this.#byId.get(id);
    if (known !== undefined) return known;
    return createHmac('sha256', this.#secret).update(id).digest().subarray(0, VALUE_BYTES).toString('base64url');
  }

  /** Remember the ids that cookie values may decode to (call on every endpoint-set change). */
  index(ids: Iterable<string>): void {
    this.#byValue.clear();
    this.#byId.clear();
    for (const id of ids) {
      const value = this.encode(id);
      this.#byValue.set(value, id);
      this.#byId.set(id, value);
    }
  }

  /** The endpoint id a cookie value stands for, if it is one of the indexed ids. */
  decode(value: string): string | undefined {
    return this.#byValue.get(value);
  }
}
