import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import { errorBody, statusOf } from './errors.js';
import { splitListen } from './server.js';

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

describe('API error mapping', () => {
  it('maps codes to statuses in one place; unknown errors are 500 with no detail', () => {
    expect(statusOf(new BulwarkError('AUTH_REQUIRED', 'x'))).toBe(401);
    expect(statusOf(new BulwarkError('AUTH_INVALID', 'x'))).toBe(401);
    expect(statusOf(new BulwarkError('NOT_FOUND', 'x'))).toBe(404);
    expect(statusOf(new BulwarkError('BAD_REQUEST', 'x'))).toBe(400);
    expect(statusOf(new Error('boom with internals'))).toBe(500);
    expect(errorBody(new Error('boom with internals'))).toEqual({ error: { code: 'INTERNAL', message: 'internal error; see the daemon log' } });
    expect(errorBody(new BulwarkError('NOT_FOUND', 'no route', { hint: 'h' }))).toEqual({ error: { code: 'NOT_FOUND', message: 'no route', hint: 'h' } });
  });
});
