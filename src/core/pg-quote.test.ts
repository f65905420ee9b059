import { describe, expect, it } from 'vitest';
import { BulwarkError } from './errors.js';
import { confValue, conninfoValue, sqlLiteral } from './pg-quote.js';

describe('quoting', () => {
  it('escapes conninfo values and SQL literals', () => {
    expect(conninfoValue("pa's\\w")).toBe("'pa\\'s\\\\w'");
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(confValue("a\\b'c")).toBe("'a\\\\b''c'");
    expect(() => confValue('a\nb')).toThrow();
  });

  it('refuses a postgresql.conf value with a line break or NUL: a USAGE error with the hint the caller gives', () => {
    for (const bad of ['a\rb', 'a\0b']) expect(() => confValue(bad)).toThrow(BulwarkError);
    let caught: unknown;
    try {
      confValue('a\nb', 'remove line breaks from the command or path');
    } catch (err) {
      caught = err;
    }
    expect((caught as BulwarkError).code).toBe('USAGE');
    expect((caught as BulwarkError).hint).toBe('remove line breaks from the command or path');
  });
});
