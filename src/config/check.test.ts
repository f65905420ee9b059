import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../cli/commands/check.js';
import { BulwarkError } from '../core/errors.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bulwark-check-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

interface JsonFinding {
  severity: string;
  rule: string;
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

interface JsonBody {
  file: string;
  ok: boolean;
  errors: number;
  warnings: number;
  findings: JsonFinding[];
}

const EXAMPLES = ['examples/full.yaml', 'examples/single-zone.yaml'];

describe('bulwark check', () => {
  it.each(EXAMPLES)('%s is clean without its secrets (exit 0, warnings only)', async (example) => {
    const result = await checkConfig({ config: example }, { env: {} });
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toMatch(/^ok: .*: 0 error\(s\), \d+ warning\(s\)$/m);
    expect(result.output).not.toMatch(/ error /);
  });

  it.each(EXAMPLES)('%s is clean with every secret set, even when secrets are required', async (example) => {
    const env = new Proxy({}, { get: (_t, key) => (typeof key === 'string' ? `value-of-${key}` : undefined) }) as NodeJS.ProcessEnv;
    const result = await checkConfig({ config: example, requireSecrets: true, json: true }, { env });
    expect(result.exitCode, result.output).toBe(0);
    const body = JSON.parse(result.output) as JsonBody;
    expect(body.errors).toBe(0);
    expect(body.findings.filter((f) => f.rule === 'secret.unresolved')).toEqual([]);
  });

  it('--require-secrets makes an unset secret an error (exit 1)', async () => {
    const result = await checkConfig({ config: 'examples/single-zone.yaml', requireSecrets: true }, { env: {} });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain('BULWARK_BACKUP_PASSWORD is not set');
  });

  it('an unreadable file is CONFIG_UNREADABLE (the CLI maps it to exit 2)', async () => {
    const missing = join(dir, 'does-not-exist.yaml');
    const error = await checkConfig({ config: missing }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(BulwarkError);
    expect((error as BulwarkError).code).toBe('CONFIG_UNREADABLE');
    expect((error as BulwarkError).message).toContain(missing);
    expect((error as BulwarkError).message).toContain('ENOENT');
    expect((error as BulwarkError).hint).toContain('-c/--config');
  });

  it('a directory is CONFIG_UNREADABLE too', async () => {
    await expect(checkConfig({ config: dir })).rejects.toMatchObject({ code: 'CONFIG_UNREADABLE' });
  });

  it('YAML syntax errors exit 2 with a location', async () => {
    const file = write('syntax.yaml', 'services:\n  api:\n    endpoints: [\n  web: {}\n');
    const result = await checkConfig({ config: file });
    expect(result.exitCode).toBe(2);
    expect(result.output).toMatch(new RegExp(`${escape(file)}:\\d+:\\d+ error`));
  });

  it('a duplicate key exits 2', async () => {
    const result = await checkConfig({ config: write('dup.yaml', 'name: a\nname: b\n') });
    expect(result.exitCode).toBe(2);
    expect(result.output).toContain(':2:1 error (root): Map keys must be unique');
    expect(result.output).toContain('hint:     remove or rename one of the two keys');
  });

  it('a root that is not a mapping exits 2', async () => {
    const result = await checkConfig({ config: write('list.yaml', '- a\n') });
    expect(result.exitCode).toBe(2);
  });

  it('schema errors exit 1, one block per finding and a summary', async () => {
    const file = write('schema.yaml', 'versoin: 1\nsla_tiers:\n  gold: { availability: 99.9, rto: 1h, rpo: 5m }\n');
    const result = await checkConfig({ config: file });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain(`${file}:1:1 error versoin: unknown key "versoin"; did you mean "version"?`);
    expect(result.output).toContain(`${file}:3:25 error sla_tiers.gold.availability: expected a percentage`);
    expect(result.output).toContain('  found:    99.9');
    expect(result.output.trim().split('\n').at(-1)).toBe(`${file}: 2 error(s), 0 warning(s)`);
  });

  it('--json output parses and carries file, line, column, path and message', async () => {
    const file = write('json.yaml', 'services:\n  api:\n    protocol: htp\n    endpoints: []\n');
    const result = await checkConfig({ config: file, json: true });
    expect(result.exitCode).toBe(1);
    const body = JSON.parse(result.output) as JsonBody;
    expect(body).toMatchObject({ file: resolve(file), ok: false, errors: 2, warnings: 0 });
    expect(body.findings).toEqual([
      expect.objectContaining({ severity: 'error', file, line: 3, column: 15, path: 'services.api.protocol', message: expect.stringContaining('did you mean "http"?') }),
      expect.objectContaining({ severity: 'error', file, line: 4, column: 16, path: 'services.api.endpoints', message: 'expected at least one endpoint' }),
    ]);
  });

  it('--json for unusable input still parses', async () => {
    const result = await checkConfig({ config: write('json-syntax.yaml', 'a: [\n'), json: true });
    expect(result.exitCode).toBe(2);
    const body = JSON.parse(result.output) as JsonBody;
    expect(body.ok).toBe(false);
    expect(body.findings[0]).toMatchObject({ severity: 'error', rule: 'yaml.syntax', line: expect.any(Number), column: expect.any(Number) });
  });

  it('--json for a clean file says ok', async () => {
    const result = await checkConfig({ config: 'examples/full.yaml', json: true }, { env: {} });
    const body = JSON.parse(result.output) as JsonBody;
    expect(body.ok).toBe(true);
    expect(body.errors).toBe(0);
    expect(body.warnings).toBe(body.findings.length);
    expect(body.findings.every((f) => f.severity === 'warning' && f.line > 0 && f.column > 0)).toBe(true);
  });

  it('warnings exit 0, and --strict turns them into exit 1', async () => {
    const file = write('warn.yaml', 'backups:\n  repositories:\n    r: { path: /x, password: "${env:UNSET_FOR_TEST}" }\n');
    const lenient = await checkConfig({ config: file }, { env: {} });
    expect(lenient.exitCode).toBe(0);
    expect(lenient.output).toContain(`${file}:3:30 warning backups.repositories.r.password`);
    const strict = await checkConfig({ config: file, strict: true }, { env: {} });
    expect(strict.exitCode).toBe(1);
    expect(strict.output).not.toMatch(/^ok:/m);
    const strictJson = JSON.parse((await checkConfig({ config: file, strict: true, json: true }, { env: {} })).output) as JsonBody;
    expect(strictJson).toMatchObject({ ok: false, errors: 0 });
    expect(strictJson.warnings).toBeGreaterThanOrEqual(1);
  });

  it('refuses unsafe PostgreSQL failover settings, each with its reason (exit 1)', async () => {
    const file = write('pg-ha.yaml', [
      'coordination:',
      '  etcd: { endpoints: [http://127.0.0.1:2379] }',
      'databases:',
      '  db:',
      '    postgres:',
      '      members:',
      '        - { name: a, port: 5432, data_dir: /srv/a }',
      '        - { name: a, port: 5432, data_dir: /srv/b }',
      '      synchronous: { standbys: 2 }',
      '      ttl: 8s',
      '      loop_wait: 2s',
      '      superuser_password: pw',
      '',
    ].join('\n'));
    const result = await checkConfig({ config: file }, { env: {} });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain(`${file}:8:19 error databases.db.postgres.members[1].name: member name "a" is used twice`);
    expect(result.output).toContain(`${file}:8:28 error databases.db.postgres.members[1].port: 127.0.0.1:5432 is used by both db.a and db.a: two servers cannot listen on one address`);
    expect(result.output).toContain(`${file}:9:32 error databases.db.postgres.synchronous.standbys: synchronous replication with 2 standby(s) needs at least 3 members`);
    expect(result.output).toContain(`${file}:10:12 error databases.db.postgres.ttl: ttl 8s is too short for loop_wait + 2 × retry_timeout (2s + 2 × 3s = 8s)`);
    expect(result.output.trim().split('\n').at(-1)).toMatch(/: 4 error\(s\), \d+ warning\(s\)$/);
  });

  it('--strict does not change exit 2', async () => {
    const result = await checkConfig({ config: write('strict-syntax.yaml', '\tname: x\n'), strict: true });
    expect(result.exitCode).toBe(2);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
