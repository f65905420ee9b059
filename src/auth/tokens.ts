import { createHash, randomBytes } from 'node:crypto';
import type { Store, TokenRecord } from '../store/index.js';

export const TOKEN_PREFIX = 'bwk_';
const TOKEN_BYTES = 32;
/** `bwk_` plus 8 characters: enough to tell tokens apart, far too little to guess one. */
const DISPLAY_PREFIX_LENGTH = TOKEN_PREFIX.length + 8;
const TOKEN_PATTERN = /^bwk_[A-Za-z0-9_-]{43}$/;

export interface GeneratedToken {
  /** Shown to the user once; never stored. */
  token: string;
  prefix: string;
  hash: string;
}

/**
 * sha256, not a password hash: tokens carry 256 random bits, so there is
 * nothing for a slow hash to protect, and verification stays cheap per request.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function generateToken(): GeneratedToken {
  const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  return { token, prefix: token.slice(0, DISPLAY_PREFIX_LENGTH), hash: hashToken(token) };
}

/** The active token record for `presented`, or null; records its use. */
export async function verifyToken(store: Store, presented: string): Promise<TokenRecord | null> {
  if (!TOKEN_PATTERN.test(presented)) return null;
  const record = await store.findTokenByHash(hashToken(presented));
  if (record === null) return null;
  await store.touchToken(record.id);
  return record;
}
