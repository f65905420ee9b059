import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { createTestCa, type IssuedCertificate, type TestCa } from '../../testing/test-ca.js';
import { CertificateSource } from './certificates.js';
import { brief, recorder, setup } from './testing/fixtures.js';

const DAY_MS = 86_400_000;
let ca: TestCa;
let dir: string;
let soon: IssuedCertificate;
let fresh: IssuedCertificate;

beforeAll(() => {
  ca = createTestCa();
  dir = mkdtempSync(join(tmpdir(), 'bulwark-cert-source-'));
  soon = ca.issue({ names: ['soon.test'], notAfter: new Date(Date.now() + 3 * DAY_MS) });
  fresh = ca.issue({ names: ['soon.test'], notAfter: new Date(Date.now() + 90 * DAY_MS) });
});
afterAll(() => {
  ca.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('CertificateSource', () => {
  it('fires certificate_expiring within 14 days by default, and clears once the file is renewed', async () => {
    const cert = join(dir, 'web.crt');
    copyFileSync(soon.cert, cert);
    const { config, rules } = setup(`services:
  web:
    listen: 127.0.0.1:8443
    endpoints: [{ url: "http://127.0.0.1:8080" }]
    tls: { certificates: [{ cert: "${cert}", key: "${soon.key}" }] }
`);
    expect(rules.filter((r) => r.when === 'certificate_expiring').map((r) => r.name)).toEqual(['web:certificate_expiring']);
    const rec = recorder();
    const source = new CertificateSource({ rules, config, log: silentLogger(), now: Date.now, intervalMs: 3_600_000 });
    source.start(rec.emit);
    await source.poll();
    const fired = rec.take();
    expect(brief(fired)).toEqual([['web:certificate_expiring', `certificate/web/${cert}`, true]]);
    expect(fired[0]?.summary).toMatch(/^the TLS certificate .*web\.crt of web expires in .+ \(within /);
    expect(fired[0]?.labels).toEqual({ service: 'web', file: cert });

    copyFileSync(fresh.cert, cert);
    await source.poll();
    expect(brief(rec.take())).toEqual([['web:certificate_expiring', `certificate/web/${cert}`, false]]);

    rmSync(cert);
    await source.poll();
    const missing = rec.take();
    expect(missing.map((s) => [s.firing, s.summary])).toEqual([[true, expect.stringMatching(/cannot be read: .*does not exist/)]]);
    source.stop();
  });
});
