import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../cli/commands/check.js';
import { createLogger } from '../core/logger.js';
import { REDACTED } from '../core/secrets.js';
import { formatKeyPath } from './diagnostics.js';
import { loadConfigFile, parseConfigText } from './load.js';
import { redactConfig, redactUrl } from './redact.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bulwark-secrets-'));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'backup.txt'), 'file-s3cr3t-value\n');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const DB = (password: string): string =>
  `databases:\n  db:\n    postgres:\n      members: [{ name: a, port: 5432 }]\n      superuser_password: "${password}"\n`;

describe('secret references', () => {
  it('resolves ${env:NAME}', () => {
    const loaded = parseConfigText(DB('${env:PG_PW}'), join(dir, 'x.yaml'), { lint: false, env: { PG_PW: 'env-s3cr3t-value' } });
    expect(loaded.findings).toEqual([]);
    expect(loaded.config?.databases.db?.postgres?.superuser_password).toBe('env-s3cr3t-value');
    expect(loaded.secrets.get('databases.db.postgres.superuser_password')).toBe('${env:PG_PW}');
  });

  it('resolves ${file:PATH} relative to the configuration file, without the trailing newline', async () => {
    const file = write('file-ref.yaml', DB('${file:secrets/backup.txt}'));
    const loaded = await loadConfigFile(file, { lint: false, env: {} });
    expect(loaded.findings).toEqual([]);
    expect(loaded.config?.databases.db?.postgres?.superuser_password).toBe('file-s3cr3t-value');
  });

  it('resolves a reference inside a longer string', () => {
    const loaded = parseConfigText('store:\n  postgres: "postgres://bulwark:${env:STORE_PW}@db:5432/bulwark"\n', join(dir, 'x.yaml'), { lint: false, env: { STORE_PW: 'st0re-pw-value' } });
    expect(loaded.config?.store?.postgres).toBe('postgres://bulwark:st0re-pw-value@db:5432/bulwark');
  });

  it('reads $${ as a literal ${ and registers nothing', () => {
    const loaded = parseConfigText('name: "cost $${env:NOT_A_REF}"\n', join(dir, 'x.yaml'), { lint: false, env: {} });
    expect(loaded.findings).toEqual([]);
    expect(loaded.config?.name).toBe('cost ${env:NOT_A_REF}');
    expect(loaded.secrets.size).toBe(0);
  });

  it('an unset environment variable is an error by default, at the line of the reference', () => {
    const loaded = parseConfigText(DB('${env:MISSING_PW}'), 'test.yaml', { lint: false, env: {} });
    expect(loaded.findings).toHaveLength(1);
    expect(loaded.findings[0]).toMatchObject({
      severity: 'error',
      rule: 'secret.unresolved',
      message: expect.stringContaining('MISSING_PW is not set'),
      location: { file: 'test.yaml', line: 5, column: 27 },
    });
    expect(formatKeyPath(loaded.findings[0]?.path ?? [])).toBe('databases.db.postgres.superuser_password');
  });

  it('an empty environment variable counts as unset', () => {
    const loaded = parseConfigText(DB('${env:EMPTY_PW}'), 'test.yaml', { lint: false, env: { EMPTY_PW: '' } });
    expect(loaded.findings[0]?.rule).toBe('secret.unresolved');
  });

  it('an unset environment variable is a warning with unresolvedSecrets: warning, and the file still validates', () => {
    const loaded = parseConfigText(DB('${env:MISSING_PW}'), 'test.yaml', { lint: false, env: {}, unresolvedSecrets: 'warning' });
    expect(loaded.findings.map((f) => f.severity)).toEqual(['warning']);
    expect(loaded.findings[0]?.hint).toContain('bulwark up will refuse to start');
    expect(loaded.config).toBeDefined();
  });

  it('a missing secret file is an error that names the resolved path', async () => {
    const file = write('missing-file.yaml', DB('${file:secrets/nope.txt}'));
    const loaded = await loadConfigFile(file, { lint: false, env: {} });
    expect(loaded.findings[0]).toMatchObject({ severity: 'error', rule: 'secret.unresolved' });
    expect(loaded.findings[0]?.message).toContain(join(dir, 'secrets', 'nope.txt'));
    expect(loaded.findings[0]?.message).toContain('does not exist');
  });
});

describe('a secret value never reaches an output', () => {
  const VALUE = 'notaport-s3cr3t';
  const text = [
    'databases:',
    '  db:',
    '    postgres:',
    '      members:',
    '        - { name: a, port: "${env:PORT_SECRET}" }',
    '',
  ].join('\n');

  it('check (text) shows the reference, not the value, even when the value fails validation', async () => {
    const file = write('port-secret.yaml', text);
    const result = await checkConfig({ config: file }, { lint: false, env: { PORT_SECRET: VALUE } });
    expect(result.exitCode).toBe(1);
    expect(result.output).not.toContain(VALUE);
    expect(result.output).toContain('${env:PORT_SECRET} (value hidden)');
    expect(result.output).toContain(`${file}:5:28`);
  });

  it('check --json shows the reference, not the value', async () => {
    const file = write('port-secret-json.yaml', text);
    const result = await checkConfig({ config: file, json: true }, { lint: false, env: { PORT_SECRET: VALUE } });
    expect(result.exitCode).toBe(1);
    expect(result.output).not.toContain(VALUE);
    const body = JSON.parse(result.output) as { findings: Array<Record<string, unknown>> };
    expect(body.findings[0]).toMatchObject({ path: 'databases.db.postgres.members[0].port', found: '${env:PORT_SECRET} (value hidden)' });
  });

  it.each<[string, string]>([
    ['an enum', 'services:\n  api:\n    protocol: "${env:S}"\n    endpoints: [{ url: "http://a:1" }]\n'],
    ['a duration', 'sla_tiers:\n  gold: { availability: 99.9%, rto: "${env:S}", rpo: 5m }\n'],
    ['a name', 'zones:\n  a: { region: "${env:S}" }\n'],
    ['a URL', 'coordination:\n  etcd: { endpoints: ["${env:S}"] }\n'],
    ['an email address', 'alerting:\n  channels:\n    c: { email: { smtp: { host: h, from: "${env:S}" }, to: [ops@example.com] } }\n'],
    ['a list', 'services:\n  api:\n    endpoints: "${env:S}"\n'],
  ])('check output hides a bad secret value in %s', async (_what, yaml) => {
    const secret = 'bad value/with spaces & s3cr3t';
    const file = write('bad-secret.yaml', yaml);
    for (const json of [false, true]) {
      const result = await checkConfig({ config: file, json }, { lint: false, env: { S: secret } });
      expect(result.exitCode).toBe(1);
      expect(result.output).not.toContain(secret);
      expect(result.output).not.toContain('s3cr3t');
    }
  });

  it('redactConfig shows the reference instead of the value', () => {
    const loaded = parseConfigText(DB('${env:PG_PW}'), join(dir, 'x.yaml'), { lint: false, env: { PG_PW: 'redact-me-please' } });
    const shown = JSON.stringify(redactConfig(loaded.config, loaded.secrets));
    expect(shown).not.toContain('redact-me-please');
    expect(shown).toContain('${env:PG_PW}');
  });

  it('redactConfig scrubs a registered value even without its origin map', () => {
    parseConfigText(DB('${env:PG_PW}'), join(dir, 'x.yaml'), { lint: false, env: { PG_PW: 'registered-s3cr3t' } });
    const shown = JSON.stringify(redactConfig({ note: 'the password is registered-s3cr3t' }));
    expect(shown).not.toContain('registered-s3cr3t');
    expect(shown).toContain(REDACTED);
  });

  it('redactConfig hides inline secrets by key name', () => {
    const loaded = parseConfigText(
      'backups:\n  repositories:\n    r: { path: /x, password: hunter2x }\nalerting:\n  channels:\n    pd: { pagerduty: { routing_key: R0UTINGKEY123 } }\n',
      'test.yaml',
      { lint: false, env: {} },
    );
    const shown = JSON.stringify(redactConfig(loaded.config, loaded.secrets));
    expect(shown).not.toContain('hunter2x');
    expect(shown).not.toContain('R0UTINGKEY123');
    expect(shown).toContain(REDACTED);
  });

  it('redactConfig masks the password of a postgres URL', () => {
    const loaded = parseConfigText('store:\n  postgres: postgres://bulwark:Pa55w0rdX@db.internal:5432/bulwark\n', 'test.yaml', { lint: false, env: {} });
    const shown = redactConfig(loaded.config, loaded.secrets) as { store: { postgres: string } };
    expect(shown.store.postgres).toBe(`postgres://bulwark:${REDACTED}@db.internal:5432/bulwark`);
    expect(redactUrl('https://u:p4ss@host/x')).toBe(`https://u:${REDACTED}@host/x`);
  });

  it('a pino log line that contains the value in its message is scrubbed', () => {
    const secret = 'log-"quoted"\\s3cr3t';
    parseConfigText(DB('${env:LOG_PW}'), join(dir, 'x.yaml'), { lint: false, env: { LOG_PW: secret } });
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    log.info(`connecting with password ${secret}`);
    log.info({ detail: { dsn: `postgres://u:${secret}@h/db` }, password: 'inline-pw-1234' }, 'dsn');
    expect(lines).toHaveLength(2);
    const all = lines.join('');
    expect(all).not.toContain('s3cr3t');
    expect(all).not.toContain('inline-pw-1234');
    expect(all).toContain(REDACTED);
    const first = JSON.parse(lines[0] ?? '{}') as { msg: string };
    expect(first.msg).toBe(`connecting with password ${REDACTED}`);
  });
});
