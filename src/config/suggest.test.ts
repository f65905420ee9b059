import { describe, expect, it } from 'vitest';
import { formatKeyPath } from './diagnostics.js';
import { parseConfigText } from './load.js';
import { suggest } from './suggest.js';

const RETENTION = ['keep_last', 'hourly', 'daily', 'weekly', 'monthly', 'yearly', 'keep_within'];
const CHECK = ['interval', 'timeout', 'fall', 'rise', 'grace_period', 'max_body_size', 'tls_skip_verify'];

describe('suggest', () => {
  it('still catches typos by edit distance', () => {
    expect(suggest('zon', ['zone', 'name'])).toBe('zone');
    expect(suggest('availabilty', ['availability'])).toBe('availability');
  });

  it('catches a key that is a whole leading or trailing part of one', () => {
    expect(suggest('last', RETENTION)).toBe('keep_last');
    expect(suggest('within', RETENTION)).toBe('keep_within');
    expect(suggest('period', CHECK)).toBe('grace_period');
  });

  it('catches a key that has a part more than one', () => {
    expect(suggest('interval_ms', CHECK)).toBe('interval');
    expect(suggest('timeout_seconds', CHECK)).toBe('timeout');
    expect(suggest('skip_verify', CHECK)).toBe('tls_skip_verify');
  });

  it('prefers a part shared with a key over two typos in a short word', () => {
    expect(suggest('last', ['keep_last', 'host'])).toBe('keep_last');
  });

  it('suggests nothing for short parts, parts inside a word, or several matches', () => {
    expect(suggest('ms', ['max_ms', 'interval'])).toBeUndefined();
    expect(suggest('val', ['interval'])).toBeUndefined();
    expect(suggest('keep', RETENTION)).toBeUndefined();
    expect(suggest('frobnicate', RETENTION)).toBeUndefined();
  });
});

describe('unknown keys suggest by part', () => {
  it('retention: { last: 1 } suggests keep_last at the key', () => {
    const yaml = 'backups:\n  policies:\n    p:\n      source: { paths: [/x] }\n      schedule: daily\n      copies: [r]\n      retention: { last: 1 }\n';
    const finding = parseConfigText(yaml, 'bulwark.yaml').findings.find((f) => f.rule === 'schema.unknown_key');
    expect(finding).toMatchObject({ message: 'unknown key "last"; did you mean "keep_last"?', suggestion: 'keep_last', location: { line: 7, column: 20 } });
    expect(formatKeyPath(finding!.path)).toBe('backups.policies.p.retention.last');
  });

  it('health_check: { interval_ms } suggests interval', () => {
    const yaml = "services:\n  api:\n    endpoints: [{ url: 'http://127.0.0.1:1' }]\n    health_check: { interval_ms: 500 }\n";
    const finding = parseConfigText(yaml, 'bulwark.yaml').findings.find((f) => f.rule === 'schema.unknown_key');
    expect(finding?.message).toBe('unknown key "interval_ms"; did you mean "interval"?');
  });
});
