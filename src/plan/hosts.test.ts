import { describe, expect, it } from 'vitest';
import { hostDomainId, hostKey, hostOfUrl, isLoopback } from './hosts.js';

describe('hosts', () => {
  it('every loopback name is this host', () => {
    for (const name of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST.', 'db.localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1']) {
      expect([name, isLoopback(name)]).toEqual([name, true]);
      expect(hostKey(name)).toBe(hostKey('127.0.0.1'));
    }
    for (const name of ['10.0.0.1', '128.0.0.1', 'localhost.example.com', '::2', 'db1']) expect(isLoopback(name)).toBe(false);
  });

  it('other names are compared as written, case aside', () => {
    expect(hostKey('DB1.internal')).toBe(hostKey('db1.internal'));
    expect(hostKey('db1.internal')).not.toBe(hostKey('db2.internal'));
    expect(hostKey('fe80:0:0:0:0:0:0:1')).toBe(hostKey('[fe80::1]'));
  });

  it('finds the host of an endpoint URL, with or without a scheme', () => {
    expect(hostOfUrl('http://127.0.0.1:8081/x')).toBe('127.0.0.1');
    expect(hostOfUrl('api-1.internal:443')).toBe('api-1.internal');
    expect(hostOfUrl('https://[::1]:8443')).toBe('::1');
    expect(hostOfUrl('http://')).toBeUndefined();
  });

  it('keys a host domain by zone and host: different declared zones are different places', () => {
    expect(hostDomainId({ host: 'localhost' })).toBe(hostDomainId({ host: '127.0.0.1' }));
    expect(hostDomainId({ host: '127.0.0.1', zone: 'a' })).toBe(hostDomainId({ host: '::1', zone: 'a' }));
    expect(hostDomainId({ host: '127.0.0.1', zone: 'a' })).not.toBe(hostDomainId({ host: '127.0.0.1', zone: 'b' }));
    expect(hostDomainId({ zone: 'a' })).toBeUndefined();
  });
});
