import { describe, expect, it } from 'vitest';
import { BulwarkError } from '../core/errors.js';
import { errorBody, statusOf } from './errors.js';

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
