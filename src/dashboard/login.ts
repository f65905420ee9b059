import { Hono, type Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { verifyToken } from '../auth/index.js';
import { clientAddress, throttled } from '../api/index.js';
import type { DashboardDeps } from './deps.js';
import { BASE, clearCookie, LOGIN_COOKIE, requireCsrf, SESSION_COOKIE, setSecretCookie, type DashEnv } from './guard.js';
import { html, shell } from './html.js';
import { secret, SESSION_MAX_MS, type SessionStore } from './sessions.js';

/** Sign-in with an API token into a session, and sign-out. */
export function loginRoutes(deps: DashboardDeps, sessions: SessionStore): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.get('/login', (c) => {
    // Before sign-in there is no session: a cookie of its own carries the form's CSRF token.
    const token = secret();
    setSecretCookie(c, LOGIN_COOKIE, token, 3600);
    return c.html(loginPage(token, c.req.query('err')));
  });
  app.post('/login', requireCsrf((c) => getCookie(c, LOGIN_COOKIE)), async (c) => {
    const refused = throttled(c, deps.throttle);
    if (refused) return refused;
    const presented = (c.get('form').token ?? '').trim();
    const token = await verifyToken(deps.store, presented);
    if (!token) {
      deps.throttle.failed(clientAddress(c), { path: c.req.path, presented, what: 'dashboard sign-in' });
      return c.html(loginPage(secretFor(c), 'That token is not valid (unknown, revoked or mistyped).'), 401);
    }
    deps.throttle.succeeded(clientAddress(c));
    const session = sessions.create({ name: token.name, id: token.id });
    clearCookie(c, LOGIN_COOKIE);
    setSecretCookie(c, SESSION_COOKIE, session.id, SESSION_MAX_MS / 1000);
    deps.log.info({ token: token.name, client: clientAddress(c) }, 'dashboard sign-in');
    return c.redirect(BASE, 303);
  });
  return app;
}

/** Sign-out sits behind the session guard and its CSRF check. */
export function logoutRoute(deps: DashboardDeps, sessions: SessionStore): Hono<DashEnv> {
  const app = new Hono<DashEnv>();
  app.post('/logout', (c) => {
    const session = c.get('session');
    sessions.end(session.id);
    clearCookie(c, SESSION_COOKIE);
    deps.log.info({ token: session.tokenName }, 'dashboard sign-out');
    return c.redirect(`${BASE}/login`, 303);
  });
  return app;
}

function secretFor(c: Context): string {
  const token = secret();
  setSecretCookie(c, LOGIN_COOKIE, token, 3600);
  return token;
}

function loginPage(csrf: string, error?: string) {
  return shell('Sign in', html`<main class="login" id="main">
<h1>Bulwark: sign in</h1>
${error ? html`<p class="notice bad" role="alert">${error.slice(0, 200)}</p>` : ''}
<form method="post" action="${BASE}/login">
<input type="hidden" name="_csrf" value="${csrf}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required spellcheck="false">
<button type="submit">Sign in</button>
</form>
<p class="muted">Create a token with <code>bulwark token create --name NAME</code>. Sessions last 12 hours (1 hour idle) and end when the daemon restarts.</p>
</main>`);
}
