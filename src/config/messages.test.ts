import { describe, expect, it } from 'vitest';
import { formatKeyPath } from './diagnostics.js';
import { parseConfigText } from './load.js';
import { parseDuration } from '../core/units.js';

const errorsOf = (yaml: string) => parseConfigText(yaml, 'test.yaml', { lint: false }).findings.filter((f) => f.severity === 'error');

describe('finding messages', () => {
  it('reports a misspelt required key once, as a typo with its suggestion', () => {
    const errors = errorsOf('services:\n  api:\n    endpoint:\n      - { url: "http://127.0.0.1:1" }\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ rule: 'schema.unknown_key', suggestion: 'endpoints', location: { line: 3, column: 5 } });
    expect(errors[0]?.message).toContain('did you mean "endpoints"?');
  });

  it('still reports a missing key when nothing explains it', () => {
    const errors = errorsOf('services:\n  api:\n    tier: gold\n');
    expect(errors.map((f) => [f.rule, formatKeyPath(f.path)])).toContainEqual(['schema.missing_key', 'services.api.endpoints']);
  });

  it('bounds durations that drive timers', () => {
    const errors = errorsOf('services:\n  api:\n    endpoints: [ { url: "http://127.0.0.1:1" } ]\n    health_check: { interval: 30d }\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: ['services', 'api', 'health_check', 'interval'], location: { line: 4, column: 31 } });
    expect(errors[0]?.message).toContain('at most 1h');
  });

  it('refuses absurd durations anywhere', () => {
    expect(parseDuration('36500d').ok).toBe(true);
    expect(parseDuration('99999999999999999999999d').ok).toBe(false);
  });

  it('says what a path or an email must look like', () => {
    const errors = errorsOf('status_page: { title: x, path: status }\n');
    expect(errors[0]?.message).toBe('expected a path starting with "/"');
  });
});

describe('hints for common puzzles', () => {
  it('explains why a number from ${env:...} cannot work, without showing the value', () => {
    const yaml = 'services:\n  api:\n    endpoints: [ { url: "http://127.0.0.1:1" } ]\n    health_check: { fall: "${env:FALL}" }\n';
    const errors = parseConfigText(yaml, 'test.yaml', { lint: false, env: { FALL: '3' } }).findings.filter((f) => f.severity === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ found: '${env:FALL} (value hidden)', location: { line: 4, column: 27 } });
    expect(errors[0]?.hint).toContain('always give text');
  });

  it('warns that an empty configuration protects nothing', () => {
    const findings = parseConfigText('name: x\n', 'test.yaml').findings;
    expect(findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'lint.nothing_to_protect' })]);
  });
});

describe('check output', () => {
  it('folds many unset secrets into one line in text and keeps each one in JSON', async () => {
    const { checkConfig } = await import('../cli/commands/check.js');
    const { writeFile, mkdtemp, rm } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'bulwark-fold-'));
    try {
      const refs = ['A1', 'A2', 'A3', 'A4', 'A1'].map((v, i) => `    r${i}: { path: /tmp/r${i}, password: "\${env:BULWARK_TEST_UNSET_${v}}" }`).join('\n');
      const file = join(dir, 'b.yaml');
      await writeFile(file, `services:\n  api:\n    endpoints: [ { url: "http://127.0.0.1:1" } ]\nbackups:\n  repositories:\n${refs}\n`);
      const text = await checkConfig({ config: file });
      expect(text.exitCode, text.output).toBe(0);
      expect(text.output).toContain('5 secret references are not set here: ${env:BULWARK_TEST_UNSET_A1}, ${env:BULWARK_TEST_UNSET_A2}, ${env:BULWARK_TEST_UNSET_A3}, ${env:BULWARK_TEST_UNSET_A4}\n');
      const json = JSON.parse((await checkConfig({ config: file, json: true })).output) as { findings: Array<{ rule: string }> };
      expect(json.findings.filter((f) => f.rule === 'secret.unresolved')).toHaveLength(5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
