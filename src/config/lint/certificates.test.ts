import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../cli/commands/check.js';
import { createTestCa, type IssuedCertificate, type TestCa } from '../../testing/test-ca.js';
import { processLintFacts } from './context.js';

const DAY_MS = 86_400_000;
let ca: TestCa;
let dir: string;
let fresh: IssuedCertificate;
let soon: IssuedCertificate;
let expired: IssuedCertificate;

beforeAll(() => {
  ca = createTestCa();
  dir = mkdtempSync(join(tmpdir(), 'bulwark-check-tls-'));
  fresh = ca.issue({ names: ['fresh.test'], notAfter: new Date(Date.now() + 60 * DAY_MS) });
  soon = ca.issue({ names: ['soon.test'], notAfter: new Date(Date.now() + 5 * DAY_MS + 3_600_000) });
  expired = ca.issue({ names: ['old.test'], notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-02-01T00:00:00Z') });
});
afterAll(() => {
  ca.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** `bulwark check --json` on a service that terminates TLS with these certificates. */
async function check(certificates: Array<{ cert: string; key: string; server_names?: string[] }>, extra = ''): Promise<{ exitCode: number; findings: Array<{ severity: string; rule: string; message: string; path: string }> }> {
  const list = certificates.map((c) => `        - { cert: "${c.cert}", key: "${c.key}"${c.server_names ? `, server_names: [${c.server_names.join(', ')}]` : ''} }`).join('\n');
  const file = join(dir, `bulwark-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `services:\n  web:\n    listen: 127.0.0.1:8443\n    endpoints: [{ url: "http://127.0.0.1:8080" }]\n    tls:\n      certificates:\n${list}\n${extra}`);
  const result = await checkConfig({ config: file, json: true }, { lintFacts: processLintFacts() });
  const body = JSON.parse(result.output) as { findings: Array<{ severity: string; rule: string; message: string; path: string }> };
  return { exitCode: result.exitCode, findings: body.findings.filter((f) => f.rule.startsWith('lint.certificate')) };
}

describe('bulwark check: certificates', () => {
  it('says nothing about a certificate with more than 14 days left', async () => {
    expect((await check([fresh])).findings).toEqual([]);
  });

  it('warns about a certificate that expires within 14 days, and one that has expired', async () => {
    const { exitCode, findings } = await check([fresh, soon, expired]);
    expect(exitCode).toBe(0);
    expect(findings.map((f) => [f.severity, f.rule])).toEqual([['warning', 'lint.certificate_expiring'], ['warning', 'lint.certificate_expiring']]);
    expect(findings[0]?.message).toMatch(/soon\.test\) expires in 5 day\(s\)/);
    expect(findings[1]?.message).toMatch(/old\.test\) expired on 2020-02-01/);
  });

  it('errors on a missing file and on a key that is not the certificate\'s', async () => {
    const { exitCode, findings } = await check([{ cert: join(dir, 'missing.crt'), key: fresh.key }, { cert: fresh.cert, key: soon.key }]);
    expect(exitCode).toBe(1);
    expect(findings.map((f) => f.severity)).toEqual(['error', 'error']);
    expect(findings[0]?.message).toMatch(/missing\.crt \(services\.web\.tls\.certificates\[0\]\.cert\): the file does not exist/);
    expect(findings[1]?.message).toMatch(/does not belong to the certificate/);
  });

  it('errors on a file that is not a certificate, and on an unusable upstream CA bundle', async () => {
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    const { findings } = await check([{ cert: junk, key: fresh.key }], `    upstream_tls: { ca: "${join(dir, 'no-ca.pem')}" }`);
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/junk\.pem .* is not a PEM certificate/),
      expect.stringMatching(/CA bundle .*no-ca\.pem .* cannot be used/),
    ]);
  });

  it('warns about server_names the certificate is not issued for', async () => {
    const { findings } = await check([{ ...fresh, server_names: ['fresh.test', 'other.test'] }]);
    expect(findings.map((f) => [f.rule, f.message])).toEqual([['lint.certificate_name', expect.stringMatching(/^other\.test is not among the names/)]]);
  });
});
