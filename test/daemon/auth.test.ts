import { afterEach, describe, expect, it } from 'vitest';
import { createToken, Harness, startDaemon } from './helpers.js';

const h = new Harness();
afterEach(() => h.cleanup());

describe('bulwark up: API authentication', () => {
  it('401 without a token, 401 with a wrong one, 200 with a created one, 401 once revoked', async () => {
    const d = await startDaemon(h);

    const none = await fetch(`${d.base}/api/v1/status`);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('AUTH_REQUIRED');

    const wrong = await fetch(`${d.base}/api/v1/status`, { headers: { authorization: 'Bearer not-a-real-token' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('AUTH_INVALID');

    const malformed = await fetch(`${d.base}/api/v1/status`, { headers: { authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('AUTH_INVALID');

    const token = await createToken(h, d.dataDir, 'ci');
    const ok = await fetch(`${d.base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const status = (await ok.json()) as { state: string; services: string[] };
    expect(status.state).toBe('running');
    expect(status.services).toEqual(['api']);

    for (const path of ['/api/v1/config', '/api/v1/events']) {
      const res = await fetch(`${d.base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, path).toBe(200);
    }

    // A token that differs by one character is invalid.
    const last = token.at(-1) === 'a' ? 'b' : 'a';
    const tampered = await fetch(`${d.base}/api/v1/status`, { headers: { authorization: `Bearer ${token.slice(0, -1)}${last}` } });
    expect(tampered.status).toBe(401);

    const revoke = await h.run(['token', 'revoke', 'ci', '--data-dir', d.dataDir]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const revoked = await fetch(`${d.base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(401);
    expect(((await revoked.json()) as { error: { code: string } }).error.code).toBe('AUTH_INVALID');
  });

  it('health, readiness and metrics need no token; unknown routes are JSON 404s', async () => {
    const d = await startDaemon(h);
    expect((await fetch(`${d.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${d.base}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${d.base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('bulwark_build_info');
    const missing = await fetch(`${d.base}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
