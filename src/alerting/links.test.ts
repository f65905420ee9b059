import { describe, expect, it } from 'vitest';
import { newLinkKey, signedLink, verifyLinkSignature } from './links.js';

describe('signed incident links', () => {
  const key = newLinkKey();
  const params = { id: 7, action: 'acknowledge' as const, actor: 'oncall', expires: 2_000_000_000 };

  function parse(link: string) {
    const url = new URL(link);
    return { ...params, actor: url.searchParams.get('actor')!, expires: Number(url.searchParams.get('expires')), signature: url.searchParams.get('sig')! };
  }

  it('verifies a link it signed', () => {
    const link = signedLink('https://bulwark.example.com/', key, params);
    expect(link).toMatch(/^https:\/\/bulwark\.example\.com\/links\/incidents\/7\/acknowledge\?actor=oncall&expires=2000000000&sig=/);
    expect(() => verifyLinkSignature(key, parse(link), 1_000)).not.toThrow();
  });

  it('refuses a changed action, actor, id or key', () => {
    const p = parse(signedLink('http://x', key, params));
    expect(() => verifyLinkSignature(key, { ...p, action: 'resolve' }, 0)).toThrow(/not valid/);
    expect(() => verifyLinkSignature(key, { ...p, actor: 'cto' }, 0)).toThrow(/not valid/);
    expect(() => verifyLinkSignature(key, { ...p, id: 8 }, 0)).toThrow(/not valid/);
    expect(() => verifyLinkSignature(newLinkKey(), p, 0)).toThrow(/not valid/);
  });

  it('refuses an expired link', () => {
    const p = parse(signedLink('http://x', key, { ...params, expires: 100 }));
    expect(() => verifyLinkSignature(key, p, 101_000)).toThrow(/expired/);
  });
});
