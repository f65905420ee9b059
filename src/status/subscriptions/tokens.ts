import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Confirmation and unsubscribe links carry `<id>.<HMAC-SHA256(key, purpose:id)>`.
 * Nothing per subscriber is stored: every later email must carry its
 * unsubscribe link, so a random token kept only as a hash (like API tokens)
 * could not be put in them. The key is made once and kept in the store's
 * settings, like the incident links' key.
 */

export const SUBSCRIPTION_KEY_SETTING = 'status_subscription_key';
export type TokenPurpose = 'confirm' | 'unsubscribe';

export function newSubscriptionKey(): string {
  return randomBytes(32).toString('base64url');
}

function mac(key: string, purpose: TokenPurpose, id: number): Buffer {
  return createHmac('sha256', key).update(`${purpose}:${id}`).digest();
}

export function subscriptionToken(key: string, purpose: TokenPurpose, id: number): string {
  return `${id}.${mac(key, purpose, id).toString('base64url')}`;
}

/** A webhook subscriber's signing secret, derived like the links, so it is never stored; shown once when it subscribes. */
export function webhookSecret(key: string, id: number): string {
  return `whsec_${createHmac('sha256', key).update(`webhook-secret:${id}`).digest('base64url')}`;
}

/** The subscriber id the token names, or null when it is malformed or not ours. */
export function verifySubscriptionToken(key: string, purpose: TokenPurpose, token: string): number | null {
  const match = /^([1-9]\d{0,14})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const id = Number(match[1]);
  const given = Buffer.from(match[2]!, 'base64url');
  return given.length === 32 && timingSafeEqual(given, mac(key, purpose, id)) ? id : null;
}
