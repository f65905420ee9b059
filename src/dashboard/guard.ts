import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { sameSecret, type Session, type SessionStore } from './sessions.js';

export type DashEnv = { Variables: { session: Session; form: Record<string, string> } };

export const SESSION_COOKIE = 'bulwark_session';
export const LOGIN_COOKIE = 'bulwark_login';
export const BASE = '/ui';

const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Every answer under /ui: a strict CSP, no framing, no sniffing, no caching of pages that show live state. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('content-security-policy', CSP);
    c.header('x-frame-options', 'DENY');
    c.header('x-content-type-options', 'nosniff');
    c.header('referrer-policy', 'same-origin');
    if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
  };
}

export function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

export function setSecretCookie(c: Context, name: string, value: string, maxAgeSeconds: number): void {
  setCookie(c, name, value, { httpOnly: true, sameSite: 'Strict', path: BASE, secure: isHttps(c), maxAge: maxAgeSeconds });
}

export function clearCookie(c: Context, name: string): void {
  deleteCookie(c, name, { path: BASE, secure: isHttps(c), httpOnly: true, sameSite: 'Strict' });
}

/** Pages need a session: without one a browser is sent to sign in, the event stream and forms get 401. */
export function sessionRefusal(sessions: SessionStore, c: Context<DashEnv>): Response | undefined {
  const session = sessions.touch(getCookie(c, SESSION_COOKIE));
  if (!session) {
    if (c.req.method === 'GET' && !c.req.path.startsWith(`${BASE}/events/stream`)) return c.redirect(`${BASE}/login`, 303);
    return c.text('sign in first', 401);
  }
  c.set('session', session);
  return undefined;
}

/** The Origin (or, without one, the Referer) names this host: a form posted from another site is refused. */
export function sameOrigin(c: Context): boolean {
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  const from = c.req.header('origin') ?? c.req.header('referer');
  if (!host || !from || from === 'null') return false;
  try {
    return new URL(from).host === host;
  } catch {
    return false;
  }
}

/** Every POST: same origin, and the form's `_csrf` equals the session's (or, before sign-in, the login cookie's). */
export async function csrfRefusal(c: Context<DashEnv>, expected: string | undefined): Promise<Response | undefined> {
  if (c.req.method !== 'POST') return undefined;
  if (!sameOrigin(c)) return c.text('refused: this form was not posted from this site (Origin/Referer)', 403);
  const form = await readForm(c);
  if (!sameSecret(form._csrf, expected)) return c.text('refused: the form has no valid CSRF token; reload the page and try again', 403);
  c.set('form', form);
  return undefined;
}

export function requireCsrf(expected: (c: Context<DashEnv>) => string | undefined): MiddlewareHandler<DashEnv> {
  return async (c, next) => (await csrfRefusal(c, expected(c))) ?? next();
}

const MAX_FORM_BYTES = 16 * 1024;

async function readForm(c: Context): Promise<Record<string, string>> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return {};
  const text = await c.req.text();
  if (text.length > MAX_FORM_BYTES) return {};
  return Object.fromEntries([...new URLSearchParams(text)].map(([k, v]) => [k, v]));
}
