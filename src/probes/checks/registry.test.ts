import { describe, expect, it } from 'vitest';
import { checkTypeNames, getCheckType, registerCheckType } from './registry.js';
import { httpCheck } from './http.js';

describe('check registry', () => {
  it('holds the built-in check types', () => {
    expect(checkTypeNames()).toEqual(expect.arrayContaining(['command', 'http', 'tcp']));
    expect(getCheckType('http')).toBe(httpCheck);
    expect(getCheckType('nope')).toBeUndefined();
  });

  it('refuses duplicates and mismatched names', () => {
    expect(() => registerCheckType('http', httpCheck)).toThrow(/already registered/);
    expect(() => registerCheckType('tcp', httpCheck as never)).toThrow(/names must match/);
  });
});
