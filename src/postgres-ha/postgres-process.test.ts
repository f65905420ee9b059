import { describe, expect, it } from 'vitest';
import { parseSynchronousStandbyNames, synchronousStandbyNames } from './postgres-process.js';

describe('synchronous_standby_names', () => {
  it('is ANY 1 over the sorted, quoted names, or empty for asynchronous', () => {
    expect(synchronousStandbyNames(['m3', 'm2'])).toBe('ANY 1 ("m2", "m3")');
    expect(synchronousStandbyNames([])).toBe('');
  });

  it('parses what it writes', () => {
    for (const names of [[], ['m2'], ['m2', 'm3'], ['a"b', 'c']]) {
      expect(parseSynchronousStandbyNames(synchronousStandbyNames(names))).toEqual([...names].sort());
    }
    expect(parseSynchronousStandbyNames('FIRST 1 (x)')).toEqual(['x']);
    expect(parseSynchronousStandbyNames('x, y')).toEqual([]);
  });
});
