import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type Store } from '../store/index.js';
import { generateToken, hashToken, verifyToken } from './index.js';

describe('generateToken', () => {
  it('makes a bwk_ token of 32 random bytes, its display prefix and its sha256', () => {
    const { token, prefix, hash } = generateToken();
    expect(token).toMatch(/^bwk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(token.startsWith(prefix)).toBe(true);
    expect(prefix).toHaveLength(12);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(hashToken(token));
  });

  it('never repeats', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => generateToken().token));
    expect(tokens.size).toBe(100);
  });
});

describe('verifyToken', () => {
  let dir: string;
  let store: Store;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bulwark-auth-'));
    store = await openSqliteStore({ path: join(dir, 'bulwark.db') });
    await store.migrate();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the record for a valid token and records its use', async () => {
    const { token, prefix, hash } = generateToken();
    const created = await store.createToken({ name: 'ci', hash, prefix });
    const found = await verifyToken(store, token);
    expect(found?.id).toBe(created.id);
    expect((await store.listTokens())[0]?.lastUsedAt).not.toBeNull();
  });

  it('rejects unknown, malformed and revoked tokens', async () => {
    const { token, prefix, hash } = generateToken();
    await store.createToken({ name: 'ci', hash, prefix });
    expect(await verifyToken(store, generateToken().token)).toBeNull();
    expect(await verifyToken(store, '')).toBeNull();
    expect(await verifyToken(store, token.slice(0, -1))).toBeNull();
    expect(await verifyToken(store, `${token} `)).toBeNull();
    await store.revokeToken('ci');
    expect(await verifyToken(store, token)).toBeNull();
  });
});
