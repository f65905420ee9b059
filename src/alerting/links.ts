import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BulwarkError } from '../core/errors.js';
import type { LinkAction } from './types.js';

/**
 * One-click acknowledge and resolve links: the parameters are signed with a
 * key kept in the store (made once, never configured, never logged), and
 * expire. A link names its recipient, so the timeline says who clicked.
 */

export const LINK_KEY_SETTING = 'alerting.link_key';

export function newLinkKey(): string {
  return randomBytes(32).toString('base64url');
}

export interface LinkParams {
  id: number;
  action: LinkAction;
  actor: string;
  /** Epoch seconds. */
  expires: number;
}

function signature(key: string, p: LinkParams): string {
  return createHmac('sha256', key).update(`${p.id}\n${p.action}\n${p.actor}\n${p.expires}`).digest('base64url');
}

export function signedLink(baseUrl: string, key: string, p: LinkParams): string {
  const query = new URLSearchParams({ actor: p.actor, expires: String(p.expires), sig: signature(key, p) });
  return `${baseUrl.replace(/\/$/, '')}/links/incidents/${p.id}/${p.action}?${query.toString()}`;
}

export function verifyLinkSignature(key: string, p: LinkParams & { signature: string }, nowMs: number): void {
  const expected = Buffer.from(signature(key, p));
  const given = Buffer.from(p.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new BulwarkError('AUTH_INVALID', 'this link is not valid', { hint: 'use the link from the notification as sent, or act with: bulwark incident ack ID' });
  }
  if (p.expires * 1000 < nowMs) {
    throw new BulwarkError('AUTH_INVALID', 'this link has expired', { hint: `act with the CLI instead: bulwark incident ${p.action === 'acknowledge' ? 'ack' : 'resolve'} ${p.id}` });
  }
}
