import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from './testing/client.js';
import { dashboardFixture, EVIL, type Fixture } from './testing/fixture.js';

let f: Fixture;
let ui: TestClient;

beforeEach(async () => {
  f = await dashboardFixture();
  ui = new TestClient(f.app);
});
afterEach(async () => f.close());

const PAGES = ['/ui', '/ui/services', '/ui/databases', '/ui/backups', '/ui/incidents', '/ui/incidents/1', '/ui/plan', '/ui/events', '/ui/databases/main/switchover?to=m2'];

describe('dashboard sign-in and sessions', () => {
  it('sends a visitor without a session to the sign-in page', async () => {
    const res = await ui.get('/ui/services');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/login');
    const login = await ui.get('/ui/login');
    expect(login.status).toBe(200);
    expect(login.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  });

  it('refuses a wrong token, logging the attempt without the secret', async () => {
    const wrong = `bwk_${'x'.repeat(43)}`;
    const res = await ui.signIn(wrong);
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('not valid');
    expect(ui.cookies.has('bulwark_session')).toBe(false);
    const entry = f.lines.find((l) => l.msg === 'dashboard sign-in refused');
    expect(entry).toMatchObject({ level: 40, path: '/ui/login', token_prefix: 'bwk_' });
    expect(JSON.stringify(f.lines)).not.toContain(wrong);
  });

  it('signs in with a valid token into an HttpOnly, SameSite=Strict cookie on /ui (Secure over https)', async () => {
    const res = await ui.signIn(f.token);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui');
    const cookie = ui.lastSetCookies.find((c) => c.startsWith('bulwark_session='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/ui(;|$)/);
    expect(cookie).not.toMatch(/Secure/);
    const page = await ui.get('/ui');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('alice');

    const secure = new TestClient(f.app, 'https://ui.test');
    await secure.signIn(f.token);
    expect(secure.lastSetCookies.find((c) => c.startsWith('bulwark_session='))).toMatch(/Secure/);
  });

  it('ends a session after an hour idle, slides while used, and ends after 12 hours whatever', async () => {
    await ui.signIn(f.token);
    for (let i = 0; i < 12; i += 1) {
      f.clock.now += 59 * 60_000;
      expect((await ui.get('/ui/plan')).status, `hour ${i}`).toBe(200);
    }
    f.clock.now += 13 * 60_000;
    expect((await ui.get('/ui/plan')).status).toBe(303);

    await ui.signIn(f.token);
    f.clock.now += 61 * 60_000;
    const idle = await ui.get('/ui');
    expect(idle.status).toBe(303);
    expect(idle.headers.get('location')).toBe('/ui/login');
  });

  it('signs out: the session ends and the cookie is cleared', async () => {
    await ui.signIn(f.token);
    const session = ui.cookies.get('bulwark_session');
    const res = await ui.post('/ui/logout', { _csrf: await ui.csrf() });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ui/login');
    expect(ui.cookies.has('bulwark_session')).toBe(false);
    ui.cookies.set('bulwark_session', session as string);
    expect((await ui.get('/ui')).status).toBe(303);
  });

  it('slows sign-ins from an address after five failures', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i += 1) statuses.push((await ui.signIn(`bwk_${String(i).repeat(43)}`)).status);
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses.slice(6)).toEqual([429, 429]);
    f.clock.now += 10_000;
    expect((await ui.signIn(f.token)).status).toBe(303);
  });
});

describe('dashboard pages and forms', () => {
  beforeEach(async () => {
    await ui.signIn(f.token);
  });

  it('renders every page with the strict CSP, and serves its assets', async () => {
    for (const path of PAGES) {
      const res = await ui.get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy'), path).toContain("default-src 'none'");
      const text = await res.text();
      expect(text, path).toContain('<nav aria-label="Sections">');
      expect(text, path).not.toMatch(/<script>|style="|onclick=/);
    }
    const css = await ui.get('/ui/static/dashboard.css');
    expect(css.headers.get('content-type')).toContain('text/css');
    expect(await (await ui.get('/ui/static/live.js')).text()).toContain('EventSource');
    expect((await ui.get('/ui/incidents/99')).status).toBe(404);
  });

  it('refuses a POST without the CSRF token or from another origin, and changes nothing', async () => {
    const csrf = await ui.csrf('/ui/services');
    expect((await ui.post('/ui/services/api/endpoints/a1/drain', {})).status).toBe(403);
    expect((await ui.post('/ui/services/api/endpoints/a1/drain', { _csrf: 'forged' })).status).toBe(403);
    expect((await ui.post('/ui/services/api/endpoints/a1/drain', { _csrf: csrf }, { origin: 'http://evil.test' })).status).toBe(403);
    expect((await ui.post('/ui/logout', {}, { origin: 'http://evil.test' })).status).toBe(403);
    expect(f.pool.snapshot().endpoints.find((e) => e.id === 'a1')?.admin).toBe('enabled');
    expect(await f.store.recentEvents({ limit: 10 })).toEqual([]);
  });

  it('drains, weighs and enables an endpoint through the pool, auditing the token name', async () => {
    const csrf = await ui.csrf('/ui/services');
    const res = await ui.post('/ui/services/api/endpoints/a1/drain', { _csrf: csrf });
    expect(res.status).toBe(303);
    expect(decodeURIComponent(res.headers.get('location') ?? '')).toBe('/ui/services?msg=api/a1: draining');
    expect(f.pool.snapshot().endpoints.find((e) => e.id === 'a1')?.admin).toBe('draining');
    await ui.post('/ui/services/api/endpoints/a2/weight', { _csrf: csrf, weight: '7' });
    expect(f.pool.snapshot().endpoints.find((e) => e.id === 'a2')?.weight).toBe(7);
    const bad = await ui.post('/ui/services/api/endpoints/a2/weight', { _csrf: csrf, weight: '-1' });
    expect(decodeURIComponent(bad.headers.get('location') ?? '')).toContain('err=weight must be');
    const events = await f.store.recentEvents({ limit: 10 });
    expect(events.map((e) => [e.subsystem, e.kind, e.subject, (e.data as { by: string }).by])).toEqual([
      ['gateway', 'endpoint.weight', 'api/a2', 'alice'], ['gateway', 'endpoint.drain', 'api/a1', 'alice'],
    ]);
    const page = await (await ui.get('/ui/services?msg=api%2Fa1%3A%20draining')).text();
    expect(page).toContain('api/a1: draining');
    expect(page).toContain('Enable a1');
  });

  it('runs a backup now and acknowledges, notes and resolves an incident as the token', async () => {
    const csrf = await ui.csrf('/ui/backups');
    expect((await ui.post('/ui/backups/db/run', { _csrf: csrf })).status).toBe(303);
    expect(f.runs).toEqual(['db']);
    await ui.post('/ui/incidents/1/ack', { _csrf: csrf });
    await ui.post('/ui/incidents/1/notes', { _csrf: csrf, text: 'looking' });
    await ui.post('/ui/incidents/1/resolve', { _csrf: csrf, root_cause: 'disk full' });
    expect(f.incidents.calls).toEqual(['ack 1 alice', 'resolve 1 alice disk full']);
    expect(f.incidents.notes).toEqual([{ id: 1, actor: 'alice', text: 'looking' }]);
  });

  it('shows database members and failover history, and switches over only after the confirmation step', async () => {
    const page = await (await ui.get('/ui/databases')).text();
    expect(page).toMatch(/m2<\/th><td>127\.0\.0\.1:5432<\/td><td>replica/);
    expect(page).toContain('128 bytes');
    expect(page).toContain('<select id="to-main" name="to">');
    const confirm = await (await ui.get('/ui/databases/main/switchover?to=m2')).text();
    expect(confirm).toContain('Yes, switch over main');
    expect(f.switchovers).toEqual([]);
    const csrf = await ui.csrf('/ui/databases/main/switchover?to=m2');
    const unconfirmed = await ui.post('/ui/databases/main/switchover', { _csrf: csrf, to: 'm2' });
    expect(decodeURIComponent(unconfirmed.headers.get('location') ?? '')).toContain('err=the switchover was not confirmed');
    const done = await ui.post('/ui/databases/main/switchover', { _csrf: csrf, to: 'm2', confirm: 'yes' });
    expect(decodeURIComponent(done.headers.get('location') ?? '')).toContain('msg=switchover of main requested: m1 → m2');
    expect(f.switchovers).toEqual(['main m2 alice']);
    expect((await f.store.recentEvents({ limit: 1 }))[0]).toMatchObject({ subsystem: 'postgres-ha', kind: 'switchover.requested', subject: 'main', data: { by: 'alice', to: 'm2' } });
  });

  it('escapes HTML in service names, incident titles, notes and event subjects', async () => {
    const csrf = await ui.csrf('/ui/incidents/1');
    await ui.post('/ui/incidents/1/notes', { _csrf: csrf, text: `note ${EVIL}` });
    await f.store.appendEvent({ subsystem: 'test', kind: 'x', subject: EVIL, data: { text: EVIL } });
    for (const path of ['/ui', '/ui/incidents', '/ui/incidents/1', '/ui/events']) {
      const text = await (await ui.get(path)).text();
      expect(text, path).not.toContain('<script>alert');
      expect(text, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
    const flash = await (await ui.get(`/ui/services?err=${encodeURIComponent(EVIL)}`)).text();
    expect(flash).not.toContain('<script>alert');
  });

  it('streams status changes from the event bus', async () => {
    const res = await ui.get('/ui/events/stream');
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let seen = decoder.decode((await reader.read()).value);
    expect(seen).toContain('event: hello');
    f.bus.emit('owner.state', { kind: 'service', name: 'api', from: 'up', to: 'down', at: 1 });
    while (!seen.includes('event: status')) seen += decoder.decode((await reader.read()).value);
    expect(seen).toContain('"key":"service/api","status":"down"');
    await reader.cancel();
    const anonymous = new TestClient(f.app);
    expect((await anonymous.get('/ui/events/stream')).status).toBe(401);
  });
});
