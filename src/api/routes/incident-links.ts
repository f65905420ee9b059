import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { isBulwarkError } from '../../core/errors.js';
import type { Incident, IncidentActions, LinkAction } from '../../alerting/index.js';
import { actedPage, confirmPage, invalidPage, notFoundPage, resolvedPage, type Link } from './incident-links-pages.js';

const MAX_FORM = 8 * 1024;
const HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The signed one-click links of emails and chat messages, outside the token
 * guard (the signature is the credential). GET only asks: mail scanners and
 * chat unfurlers fetch every link they see, so only the POST of the page's
 * form acts, as `link:<actor>`.
 */
export function incidentLinkRoutes(actions: IncidentActions): Hono {
  const app = new Hono();
  app.use('*', securityHeaders);

  app.get('/incidents/:id/:action', async (c) => {
    const link = readLink(c.req.param('id'), c.req.param('action'), c.req.query());
    return guarded(c, actions, link, async (valid) => {
      const { incident } = await actions.detail(valid.id);
      return c.html(confirmPage(valid, incident));
    });
  });

  app.post('/incidents/:id/:action', bodyLimit({ maxSize: MAX_FORM, onError: (c) => c.html(invalidPage(null), 413) }), async (c) => {
    const form = await c.req.parseBody().catch(() => ({}));
    const link = readLink(c.req.param('id'), c.req.param('action'), form);
    return guarded(c, actions, link, async (valid) => {
      const { incident } = await actions.detail(valid.id);
      if (incident.state === 'resolved') return c.html(resolvedPage(valid, incident), 409);
      const done = await act(actions, valid).catch(async (err: unknown) => {
        // Resolved between our read and the action: the engine refuses with BAD_REQUEST.
        if (isBulwarkError(err) && err.code === 'BAD_REQUEST') return null;
        throw err;
      });
      if (done === null) return c.html(resolvedPage(valid, (await actions.detail(valid.id)).incident), 409);
      return c.html(actedPage(valid, done));
    });
  });
  return app;
}

function act(actions: IncidentActions, link: Link): Promise<Incident> {
  const actor = `link:${link.actor}`;
  return link.action === 'acknowledge' ? actions.acknowledge(link.id, actor) : actions.resolve(link.id, actor);
}

/** Verifies the link, then runs `use`; a bad link or an unknown incident becomes its page, never JSON. */
async function guarded(c: Context, actions: IncidentActions, link: Link | { id: number | null }, use: (link: Link) => Promise<Response>): Promise<Response> {
  if (!('action' in link)) return c.html(invalidPage(link.id), 403);
  try {
    await actions.verifyLink({ id: link.id, action: link.action, actor: link.actor, expires: link.expires, signature: link.signature });
  } catch (err) {
    if (isBulwarkError(err) && (err.code === 'AUTH_INVALID' || err.code === 'BAD_REQUEST' || err.code === 'NOT_FOUND')) return c.html(invalidPage(link.id), 403);
    throw err;
  }
  try {
    return await use(link);
  } catch (err) {
    if (isBulwarkError(err) && err.code === 'NOT_FOUND') return c.html(notFoundPage(link.id), 404);
    throw err;
  }
}

/** The link's parameters, or only its id (when readable) for a malformed one. */
function readLink(rawId: string, rawAction: string, params: Record<string, unknown>): Link | { id: number | null } {
  const id = /^[1-9]\d{0,14}$/.test(rawId) ? Number(rawId) : null;
  const action: LinkAction | null = rawAction === 'acknowledge' || rawAction === 'resolve' ? rawAction : null;
  const { actor, expires, sig } = params;
  const wellFormed = typeof actor === 'string' && /^[^\p{Cc}]{1,200}$/u.test(actor)
    && typeof expires === 'string' && /^\d{1,16}$/.test(expires)
    && typeof sig === 'string' && /^[\x21-\x7e]{1,512}$/.test(sig);
  if (id === null || action === null || !wellFormed) return { id };
  return { id, action, actor, expires: Number(expires), signature: sig };
}

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(HEADERS)) c.res.headers.set(name, value);
};
