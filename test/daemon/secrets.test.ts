import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configYaml, createToken, getMetrics, Harness, metricValue, SECRET, startDaemon, waitFor } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

describe('bulwark up: secrets never leave the process', () => {
  it('config shows the reference, never the value: API, logs, metrics, validate answers', async () => {
    const d = await startDaemon(h);
    const token = await createToken(h, d.dataDir, 'reader');
    const auth = { authorization: `Bearer ${token}` };

    const res = await fetch(`${d.base}/api/v1/config`, { headers: auth });
    expect(res.status).toBe(200);
    const text = await res.text();
    const body = JSON.parse(text) as { config: { name: string; backups: { repositories: { x: { password: string } } } } };
    expect(body.config.name).toBe('test-one');
    expect(body.config.backups.repositories.x.password).toBe('${env:TEST_SECRET}');
    expect(text).not.toContain(SECRET);

    const status = await (await fetch(`${d.base}/api/v1/status`, { headers: auth })).text();
    expect(status).not.toContain(SECRET);

    // Validate answers: a valid body, a body with an error near the secret, and a
    // body that puts the secret where a finding would quote the value.
    const bodies = [
      configYaml('other'),
      configYaml('other', 'bogus_key: 1\n'),
      configYaml('other').replace('{ url: http://127.0.0.1:8081, zone: z1 }', '{ url: "${env:TEST_SECRET}", zone: "${env:TEST_SECRET}" }'),
      'name: [unclosed\n  password: "${env:TEST_SECRET}"',
    ];
    for (const yaml of bodies) {
      const answer = await fetch(`${d.base}/api/v1/config/validate`, { method: 'POST', headers: { ...auth, 'content-type': 'application/yaml' }, body: yaml });
      const answerText = await answer.text();
      expect(answerText, answerText).not.toContain(SECRET);
      expect([200, 400, 422]).toContain(answer.status);
    }
    const valid = await fetch(`${d.base}/api/v1/config/validate`, { method: 'POST', headers: auth, body: configYaml('other') });
    expect(((await valid.json()) as { ok: boolean }).ok).toBe(true);
    const invalid = await fetch(`${d.base}/api/v1/config/validate`, { method: 'POST', headers: auth, body: configYaml('other', 'bogus_key: 1\n') });
    const invalidBody = (await invalid.json()) as { ok: boolean; findings: unknown[] };
    expect(invalidBody.ok).toBe(false);
    expect(JSON.stringify(invalidBody.findings)).toContain('bogus_key');

    const metrics = await getMetrics(d.base);
    expect(metrics).not.toContain(SECRET);

    // Trigger a reload so the config path is logged again, then stop cleanly and read everything logged.
    const unchanged = 'bulwark_config_reloads_total{result="unchanged"}';
    const before = metricValue(await getMetrics(d.base), unchanged);
    d.proc.child.kill('SIGHUP');
    await waitFor(async () => (metricValue(await getMetrics(d.base), unchanged) > before ? true : undefined), 'SIGHUP reload counted');
    d.proc.child.kill('SIGTERM');
    const exit = await d.proc.exited;
    expect(exit.code).toBe(0);
    expect(d.proc.stderr()).toContain('"msg":"stopped"');
    expect(d.proc.stderr()).not.toContain(SECRET);
    expect(d.proc.stdout()).not.toContain(SECRET);
  });

  // POST /config/validate must not resolve ${file:PATH} on the daemon's host:
  // a finding that quoted the value (here an undeclared zone) would hand the
  // file's contents to the caller.
  it('validate does not read files named by ${file:...} on the daemon host', async () => {
    const d = await startDaemon(h);
    const token = await createToken(h, d.dataDir, 'reader');
    const secretFile = join(d.dir, 'host-secret.txt');
    await writeFile(secretFile, 'file-secret-abcdef');
    const yaml = configYaml('other').replace('{ url: http://127.0.0.1:8081, zone: z1 }', `{ url: http://127.0.0.1:8081, zone: "\${file:${secretFile}}" }`);
    const answer = await fetch(`${d.base}/api/v1/config/validate`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: yaml });
    expect(await answer.text()).not.toContain('file-secret-abcdef');
  });
});
