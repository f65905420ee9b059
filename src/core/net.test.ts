import { describe, expect, it } from 'vitest';
import { BulwarkError } from './errors.js';
import { splitListen } from './net.js';

describe('splitListen', () => {
  it('parses host:port, [ipv6]:port and :port', () => {
    expect(splitListen('127.0.0.1:9180')).toEqual({ host: '127.0.0.1', port: 9180 });
    expect(splitListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(splitListen(':9180')).toEqual({ host: '0.0.0.0', port: 9180 });
    expect(splitListen('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });

  it('rejects anything else with a USAGE error and a hint', () => {
    for (const bad of ['nonsense', '127.0.0.1', '127.0.0.1:http', '::1:80']) {
      let caught: unknown;
      try {
        splitListen(bad);
      } catch (err) {
        caught = err;
      }
      expect(caught, bad).toBeInstanceOf(BulwarkError);
      expect((caught as BulwarkError).code).toBe('USAGE');
      expect((caught as BulwarkError).hint).toContain('host:port');
    }
  });
});
