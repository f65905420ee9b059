import { describe, expect, it } from 'vitest';
import { evaluate, parseCondition, type Condition, type ConditionSubject } from './index.js';

function parse(text: string): Condition {
  const result = parseCondition(text);
  if (!result.ok) throw new Error(`${text}: ${result.error}`);
  return result.condition;
}

describe('parseCondition', () => {
  it.each([
    ['status == 200', 'status', '==', 200],
    ['response_time < 300ms', 'response_time', '<', 300],
    ['response_time < 2s', 'response_time', '<', 2000],
    ['cert_expires_in > 14d', 'cert_expires_in', '>', 14],
    ['cert_expires_in > 48h', 'cert_expires_in', '>', 2],
    ['body.status == "UP"', 'body', '==', 'UP'],
    ["header.content-type contains 'json'", 'header', 'contains', 'json'],
    ['exit_code != 1', 'exit_code', '!=', 1],
    ['lag_bytes <= -1', 'lag_bytes', '<=', -1],
    ['lag_seconds < 10s', 'lag_seconds', '<', 10],
    ['role == primary', 'role', '==', 'primary'],
    ['body.ok == true', 'body', '==', true],
    ['len(body.items) > 0', 'body', '>', 0],
  ])('%s', (text, root, operator, value) => {
    const condition = parse(text);
    const left = condition.left.kind === 'len' ? condition.left.of : condition.left;
    expect(left.root).toBe(root);
    expect(condition.operator).toBe(operator);
    expect(condition.right.value).toBe(value);
  });

  it('reads JSON paths with indexes and quoted keys', () => {
    const condition = parse('body.a.b[0]["c d"] == 1');
    expect(condition.left).toMatchObject({ kind: 'field', root: 'body', path: ['a', 'b', 0, 'c d'], text: 'body.a.b[0]["c d"]' });
  });

  it('compiles regexes', () => {
    expect(parse('output matches "^ok\\s+\\d+"').right.kind).toBe('regex');
  });

  it.each([
    ['status = 200', 8, 'unexpected "=" at column 8; expected ==, !=, <, <=, >, >=, contains, matches'],
    ['status', 7, 'unexpected end of condition at column 7; expected ==, !='],
    ['', 1, 'unexpected end of condition at column 1; expected a field'],
    ['status == ', 11, 'unexpected end of condition at column 11; expected a number'],
    ['status == 200 200', 15, 'unexpected "200" at column 15; expected the end of the condition'],
    ['status < "x"', 10, 'expected a number or a duration after "<"'],
    ['body.x == "abc', 11, 'unterminated string starting at column 11'],
    ['status.code == 1', 7, '"status" has no fields at column 7'],
    ['status == 5xx', 11, 'unknown unit "xx" at column 11'],
    ['status < 2s', 10, 'a duration like "2s" (column 10) can only be compared with response_time'],
    ['output matches "(["', 16, 'invalid regular expression at column 16'],
    [`output matches "${'a'.repeat(300)}"`, 16, 'longer than 256 characters'],
    ['header == 1', 1, '"header" needs one header name'],
    ['body.x % 2', 8, 'unexpected "%" at column 8'],
    ['body.[0] == 1', 6, 'unexpected "[" at column 6; expected a field name after "."'],
    ['len(body.items > 0', 16, 'unexpected ">" at column 16; expected ")"'],
  ])('rejects %j at column %i', (text, column, message) => {
    const result = parseCondition(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.column).toBe(column);
    expect(result.error).toContain(message);
  });
});

describe('evaluate', () => {
  const subject: ConditionSubject = {
    status: 503,
    responseTimeMs: 120.456,
    body: JSON.stringify({ status: 'UP', items: [{ name: 'db', healthy: true }], count: '7', nested: { list: ['a', 'b'] } }),
    headers: { 'content-type': 'application/json; charset=utf-8', 'set-cookie': ['a=1', 'b=2'] },
    certExpiresInDays: 20.5,
    exitCode: 3,
    output: 'ok 42 checks\n',
    observations: { lagBytes: 2048, role: 'replica', custom_value: 5 },
  };

  it.each([
    ['status == 200', false, 'status == 200 (was 503)'],
    ['status != 200', true, 'status != 200 (was 503)'],
    ['status >= 500', true, 'status >= 500 (was 503)'],
    ['response_time < 300ms', true, 'response_time < 300ms (was 120.46)'],
    ['response_time < 0.1s', false, 'response_time < 0.1s (was 120.46)'],
    ['cert_expires_in > 14d', true, 'cert_expires_in > 14d (was 20.5)'],
    ['cert_expires_in > 30d', false, 'cert_expires_in > 30d (was 20.5)'],
    ['body.status == "UP"', true, 'body.status == "UP" (was "UP")'],
    ['body.status == UP', true, 'body.status == UP (was "UP")'],
    ['body.items[0].healthy == true', true, 'body.items[0].healthy == true (was true)'],
    ['body.items[0].name == "cache"', false, 'body.items[0].name == "cache" (was "db")'],
    ['body.items[3].name == "db"', false, 'body.items[3].name == "db" (was missing)'],
    ['body.count > 5', true, 'body.count > 5 (was "7")'],
    ['body.nested.list contains "b"', true, 'body.nested.list contains "b" (was ["a","b"])'],
    ['len(body.items) > 0', true, 'len(body.items) > 0 (was 1)'],
    ['len(body.nested.list) == 2', true, 'len(body.nested.list) == 2 (was 2)'],
    ['body contains "healthy"', true, 'body contains "healthy"'],
    ['header.Content-Type contains "json"', true, 'header.Content-Type contains "json"'],
    ['header.set-cookie contains "b=2"', true, 'header.set-cookie contains "b=2"'],
    ['header.x-missing == "a"', false, 'header.x-missing == "a" (was missing)'],
    ['header.x-missing != "a"', true, 'header.x-missing != "a" (was missing)'],
    ['exit_code == 3', true, 'exit_code == 3 (was 3)'],
    ['output matches "^ok \\d+"', true, 'output matches "^ok \\d+"'],
    ['output contains "fail"', false, 'output contains "fail" (was "ok 42 checks\\n")'],
    ['lag_bytes < 1024', false, 'lag_bytes < 1024 (was 2048)'],
    ['role == replica', true, 'role == replica (was "replica")'],
    ['custom_value == 5', true, 'custom_value == 5 (was 5)'],
    ['unknown_thing == 1', false, 'unknown_thing == 1 (was missing)'],
  ])('%s → %s', (text, ok, detail) => {
    const result = evaluate(parse(text), subject);
    expect(result.ok).toBe(ok);
    expect(result.detail).toContain(detail);
  });

  it('says when the body is not JSON', () => {
    const result = evaluate(parse('body.status == "UP"'), { body: '<html>' });
    expect(result).toEqual({ ok: false, detail: 'body.status == "UP" (was missing: body is not JSON)' });
  });

  it('says when there was no TLS', () => {
    expect(evaluate(parse('cert_expires_in > 1d'), {}).detail).toContain('not a TLS connection');
  });

  it('truncates long values in the detail', () => {
    const detail = evaluate(parse('body == "x"'), { body: 'y'.repeat(1000) }).detail;
    expect(detail.length).toBeLessThan(120);
  });
});
