import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkTargetUrl, isBlockedAddress, makeGuardedLookup } from './address-guard.js';

describe('checkTargetUrl', () => {
  it('allows http and https, loopback included', () => {
    expect(checkTargetUrl('http://127.0.0.1:8080/hook').ok).toBe(true);
    expect(checkTargetUrl('https://[::1]/hook').ok).toBe(true);
    expect(checkTargetUrl('https://hooks.example.com/x').ok).toBe(true);
  });

  it('refuses other schemes and credentials without repeating them', () => {
    expect(checkTargetUrl('ftp://example.com/x')).toEqual({ ok: false, error: 'only http and https URLs are allowed, not ftp:' });
    const creds = checkTargetUrl('https://user:hunter22@example.com/x');
    expect(creds.ok).toBe(false);
    expect(JSON.stringify(creds)).not.toContain('hunter22');
    expect(checkTargetUrl('not a url').ok).toBe(false);
  });

  it('refuses link-local and metadata addresses in every spelling', () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://2852039166/', 'http://[fe80::1]/', 'http://[::ffff:169.254.169.254]/', 'http://[fd00:ec2::254]/']) {
      const check = checkTargetUrl(url);
      expect(check.ok, url).toBe(false);
      if (!check.ok) expect(check.error).toMatch(/link-local/);
    }
  });

  it('classifies addresses', () => {
    expect(isBlockedAddress('169.254.0.1')).toBe(true);
    expect(isBlockedAddress('febf::1')).toBe(true);
    expect(isBlockedAddress('10.0.0.1')).toBe(false);
    expect(isBlockedAddress('::1')).toBe(false);
  });
});

describe('guarded lookup', () => {
  const fakeResolver = (addresses: LookupAddress[]) => makeGuardedLookup((_host, _opts, cb) => cb(null, addresses));

  it('refuses a name that resolves to a link-local address (checked on the addresses connected to)', async () => {
    const lookup = fakeResolver([{ address: '10.1.2.3', family: 4 }, { address: '169.254.169.254', family: 4 }]);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('rebind.example', {}, (e) => resolve(e)));
    expect(err?.code).toBe('EBLOCKEDADDRESS');
    expect(err?.message).toContain('rebind.example resolves to 169.254.169.254');
  });

  it('passes other addresses through in the shape asked for', async () => {
    const lookup = fakeResolver([{ address: '127.0.0.1', family: 4 }]);
    const one = await new Promise((resolve) => lookup('localhost', {}, (_e, address, family) => resolve([address, family])));
    expect(one).toEqual(['127.0.0.1', 4]);
    const all = await new Promise((resolve) => lookup('localhost', { all: true }, (_e, addresses) => resolve(addresses)));
    expect(all).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });
});
