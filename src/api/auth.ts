import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { verifyToken } from '../auth/index.js';
import type { Store } from '../store/index.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The name of the token that authenticated the request (for audit trails). */
    tokenName: string;
  }
}

const FREE_FAILURES = 5;
const WINDOW_MS = 60_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;
/** Bounded memory under a spray of addresses: the oldest entries go first. */
const MAX_CLIENTS = 10_000;

interface ClientFailures {
  /** Failures since windowStart. */
  count: number;
  windowStart: number;
  /** Refused without looking at the credential until then. */
  blockedUntil: number;
}

/**
 * Failed credentials per client address, shared by the API's token guard and
 * the dashboard's sign-in: after FREE_FAILURES in a minute, each further
 * failure blocks the address for 250 ms, doubling to 5 s, and blocked
 * attempts are answered 429 without checking the credential.
 */
export class FailureThrottle {
  private readonly clients = new Map<string, ClientFailures>();

  constructor(private readonly log: Logger, private readonly now: () => number = Date.now) {}

  /** Milliseconds the address must still wait; 0 when it may try. */
  retryAfterMs(address: string): number {
    const entry = this.clients.get(address);
    return entry ? Math.max(0, entry.blockedUntil - this.now()) : 0;
  }

  /** Log a refused credential (never the secret: at most its first 4 characters) and count it. */
  failed(address: string, where: { path: string; presented: string; what: string }): void {
    const now = this.now();
    const entry = this.entryFor(address, now);
    entry.count += 1;
    const over = entry.count - FREE_FAILURES;
    if (over > 0) entry.blockedUntil = now + Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(over - 1, 10));
    this.log.warn({ client: address, path: where.path, token_prefix: where.presented.slice(0, 4), failures: entry.count }, `${where.what} refused`);
  }

  succeeded(address: string): void {
    this.clients.delete(address);
  }

  get size(): number {
    return this.clients.size;
  }

  private entryFor(address: string, now: number): ClientFailures {
    let entry = this.clients.get(address);
    if (entry && now - entry.windowStart > WINDOW_MS && now >= entry.blockedUntil) {
      this.clients.delete(address);
      entry = undefined;
    }
    if (entry) return entry;
    if (this.clients.size >= MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value as string);
    entry = { count: 0, windowStart: now, blockedUntil: 0 };
    this.clients.set(address, entry);
    return entry;
  }
}

/** The peer's address as the socket saw it: forwarded-for headers are the client's to forge. */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** 429 with Retry-After when the address is being slowed; undefined when it may go on. */
export function throttled(c: Context, throttle: FailureThrottle): Response | undefined {
  const waitMs = throttle.retryAfterMs(clientAddress(c));
  if (waitMs === 0) return undefined;
  return c.json(
    { error: { code: 'TOO_MANY_FAILURES', message: 'too many refused credentials from this address; wait and try again' } },
    429, { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
  );
}

/** Bearer-token guard for /api/v1. Only the token's hash is ever compared or stored. */
export function requireToken(store: Store, throttle?: FailureThrottle): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw new BulwarkError('AUTH_REQUIRED', 'this endpoint requires an API token', {
        hint: 'send "Authorization: Bearer <token>"; create one with: bulwark token create --name NAME',
      });
    }
    const refused = throttle ? throttled(c, throttle) : undefined;
    if (refused) return refused;
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match ? await verifyToken(store, match[1] ?? '') : null;
    if (!token) {
      throttle?.failed(clientAddress(c), { path: c.req.path, presented: match?.[1] ?? '', what: 'API token' });
      throw new BulwarkError('AUTH_INVALID', 'the API token is not valid (unknown, revoked or malformed)', {
        hint: 'check the token, or create a new one with: bulwark token create --name NAME',
      });
    }
    throttle?.succeeded(clientAddress(c));
    c.set('tokenName', token.name);
    await next();
  };
}
