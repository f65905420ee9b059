import type { MiddlewareHandler } from 'hono';
import { BulwarkError } from '../core/errors.js';
import { verifyToken } from '../auth/index.js';
import type { Store } from '../store/index.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The name of the token that authenticated the request (for audit trails). */
    tokenName: string;
  }
}

/** Bearer-token guard for /api/v1. Only the token's hash is ever compared or stored. */
export function requireToken(store: Store): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw new BulwarkError('AUTH_REQUIRED', 'this endpoint requires an API token', {
        hint: 'send "Authorization: Bearer <token>"; create one with: bulwark token create --name NAME',
      });
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match ? await verifyToken(store, match[1] ?? '') : null;
    if (!token) {
      throw new BulwarkError('AUTH_INVALID', 'the API token is not valid (unknown, revoked or malformed)', {
        hint: 'check the token, or create a new one with: bulwark token create --name NAME',
      });
    }
    c.set('tokenName', token.name);
    await next();
  };
}
