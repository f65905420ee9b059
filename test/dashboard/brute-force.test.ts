import { afterEach, describe, expect, it } from 'vitest';
import { createToken, Harness, logLines, startDaemon } from '../daemon/helpers.js';

const h = new Harness();
afterEach(async () => h.cleanup());

describe('refused credentials against bulwark up', () => {
  it('300 wrong API tokens in a row: the later ones are refused 429, every checked one is logged with the client address and never the token', async () => {
    const d = await startDaemon(h);
    const good = await createToken(h, d.dataDir, 'ops');
    const wrong = Array.from({ length: 300 }, (_, i) => `bwk_${String(i).padStart(3, '0')}${'Q'.repeat(40)}`);
    const statuses: number[] = [];
    for (const token of wrong) {
      const res = await fetch(`${d.base}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(250);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);

    // The dashboard's sign-in counts against the same address.
    const login = await fetch(`${d.base}/ui/login`);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? '';
    const signIn = await fetch(`${d.base}/ui/login`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: csrf, token: good }),
      headers: { cookie, origin: d.base, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(signIn.status).toBe(429);

    const refused = logLines(d.proc.stderr()).filter((l) => l.msg === 'API token refused');
    expect(refused.length).toBeGreaterThanOrEqual(5);
    expect(refused[0]).toMatchObject({ level: 40, subsystem: 'auth', client: '127.0.0.1', path: '/api/v1/status', token_prefix: 'bwk_' });
    const stderr = d.proc.stderr();
    for (const token of wrong) expect(stderr).not.toContain(token.slice(4));
    expect(stderr).not.toContain(good);
  }, 60_000);
});
