import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { gzipSync } from 'node:zlib';
import { Hono, type Context } from 'hono';
import { v2Documents } from './api-v2.js';
import { badgeSvg } from './badge.js';
import { atomFeed, rssFeed } from './feeds.js';
import { STATUS_CSS } from './pages/css.js';
import { homePage } from './pages/home.js';
import { historyPage, incidentPage, monthOf, notFoundPage } from './pages/incident.js';
import { RateLimiter } from './rate-limit.js';
import type { StatusSnapshot } from './types.js';

export interface StatusRoutesOptions {
  /** The page's state; the caller decides how long one is reused. */
  snapshot: () => Promise<StatusSnapshot>;
  limiter: RateLimiter;
  /** `status_page.path`: redirected to the page's root. */
  path?: () => string;
  /** The client's address for the rate limit; by default the socket's peer (a forwarded-for header is anyone's to write). */
  clientAddress?: (c: Context) => string;
  onError?: (err: unknown) => void;
  /** `status_page.public: false`: asks search engines to leave it out. */
  hidden?: () => boolean;
  /** More routes on the same listener, behind the same headers and rate limit (subscriptions). */
  extra?: Hono;
}

export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const PAGE_CACHE = 'public, max-age=30';
const ASSET_CACHE = 'public, max-age=31536000, immutable';

const TYPES = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  svg: 'image/svg+xml; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;
type Kind = keyof typeof TYPES;

interface Rendered {
  body: string;
  etag: string;
  type: Kind;
  status: 200 | 404;
  /** Made on the first request that accepts it, then kept with the rest. */
  gzip?: Buffer;
}

/** Smaller bodies are not worth a gzip header. */
const GZIP_MIN_BYTES = 1024;

function securityHeaders(c: Context): void {
  c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'strict-origin-when-cross-origin');
  c.header('X-Frame-Options', 'DENY');
}

function peerAddress(c: Context): string {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? 'unknown';
}

function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').map((t) => t.trim().replace(/^W\//, '')).some((t) => t === etag || t === '*');
}

function acceptsGzip(c: Context): boolean {
  return /\bgzip\b/.test(c.req.header('Accept-Encoding') ?? '');
}

/** The body, gzipped for clients that take it (each encoding its own ETag), or 304 when the client has it already. */
function send(c: Context, r: Rendered, cache = PAGE_CACHE): Response {
  const gzip = r.body.length >= GZIP_MIN_BYTES && acceptsGzip(c);
  const etag = gzip ? `${r.etag.slice(0, -1)}-gz"` : r.etag;
  c.header('Cache-Control', cache);
  c.header('ETag', etag);
  c.header('Vary', 'Accept-Encoding');
  if (r.status === 200 && matches(c.req.header('If-None-Match'), etag)) return c.body(null, 304);
  c.header('Content-Type', TYPES[r.type]);
  if (!gzip) return c.body(r.body, r.status);
  r.gzip ??= gzipSync(r.body);
  c.header('Content-Encoding', 'gzip');
  return c.body(new Uint8Array(r.gzip), r.status);
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const CACHE_ENTRIES = 256;

/** What each GET path shows, rendered from one snapshot; null for nothing there. */
function render(snap: StatusSnapshot, path: string, query: URLSearchParams, base: string): Omit<Rendered, 'etag'> | null {
  // hono's html gives String objects; the body and its hash need the primitive.
  const html = (body: string) => ({ body: String(body), type: 'html' as const, status: 200 as const });
  if (path === '/') return html(homePage(snap));
  if (path === '/history') {
    const month = query.get('month') ?? '';
    return html(historyPage(snap, MONTH.test(month) ? month : monthOf(snap.at)));
  }
  if (path === '/history.rss') return { body: rssFeed(snap, base), type: 'rss', status: 200 };
  if (path === '/history.atom') return { body: atomFeed(snap, base), type: 'atom', status: 200 };
  const incident = /^\/incidents\/(\d{1,15})$/.exec(path);
  if (incident) {
    const found = snap.incidents.find((i) => i.id === Number(incident[1]));
    return found ? html(incidentPage(snap, found)) : null;
  }
  if (path.startsWith('/api/v2/')) {
    const doc = v2Documents(snap, base)[path.slice('/api/v2/'.length)];
    return doc ? { body: JSON.stringify(doc()), type: 'json', status: 200 } : null;
  }
  const badge = /^\/badge\/(.+)\.svg$/.exec(path);
  if (badge) {
    const component = snap.components.find((c) => c.name === badge[1]);
    return component ? { body: badgeSvg(component.name, component.status), type: 'svg', status: 200 } : null;
  }
  return null;
}

/** The public status page's routes: pages, feeds, Statuspage-style JSON, badges and the stylesheet; nothing of the admin API. */
export function statusRoutes(options: StatusRoutesOptions): Hono {
  const app = new Hono();
  const css: Rendered = { body: STATUS_CSS, etag: etagOf(STATUS_CSS), type: 'css', status: 200 };
  const cache = { snap: null as StatusSnapshot | null, entries: new Map<string, Rendered>() };

  app.use('*', async (c, next) => {
    securityHeaders(c);
    if (options.hidden?.()) c.header('X-Robots-Tag', 'noindex, nofollow');
    const verdict = options.limiter.take((options.clientAddress ?? peerAddress)(c));
    if (!verdict.ok) {
      c.header('Retry-After', String(verdict.retryAfterS));
      return c.text('Too many requests; try again later.\n', 429);
    }
    await next();
  });
  if (options.extra) app.route('/', options.extra);
  app.get('/static/status.css', (c) => send(c, css, ASSET_CACHE));
  app.get('*', async (c) => {
    const path = c.req.path;
    const configured = options.path?.();
    if (configured && configured !== '/' && (path === configured || path === `${configured}/`)) return c.redirect('/', 301);
    const snap = await options.snapshot();
    if (cache.snap !== snap) cache.entries.clear();
    cache.snap = snap;
    const url = new URL(c.req.url);
    const base = snap.publicUrl ?? url.origin;
    const key = `${base} ${path}?${url.searchParams.get('month') ?? ''}`;
    let rendered = cache.entries.get(key);
    if (rendered === undefined) {
      const r = render(snap, path, url.searchParams, base) ?? { body: String(notFoundPage(snap)), type: 'html' as const, status: 404 as const };
      rendered = { ...r, etag: etagOf(r.body) };
      if (cache.entries.size >= CACHE_ENTRIES) cache.entries.clear();
      cache.entries.set(key, rendered);
    }
    return send(c, rendered);
  });
  // Other methods on unknown paths (a GET always gets the page-styled 404 above).
  app.notFound((c) => {
    c.header('Content-Type', TYPES.html);
    return c.body('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title></head><body><h1>Not found</h1><p><a href="/">Current status</a></p></body></html>', 404);
  });
  app.onError((err, c) => {
    options.onError?.(err);
    securityHeaders(c);
    return c.text('The status page is unavailable right now.\n', 500);
  });
  return app;
}
