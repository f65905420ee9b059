import type { Context } from 'hono';
import { BulwarkError, errorMessage, isBulwarkError } from '../core/errors.js';
import type { DashboardDeps } from './deps.js';
import type { DashEnv } from './guard.js';

/**
 * Run one operator change from a form and answer with a redirect back to the
 * page (post/redirect/get), carrying the result line; refusals the subsystems
 * explain (BulwarkError) are shown, anything else is logged and summarised.
 */
export async function act(c: Context<DashEnv>, deps: DashboardDeps, back: string, change: (actor: string, form: Record<string, string>) => Promise<string>): Promise<Response> {
  const session = c.get('session');
  let query: string;
  try {
    query = `msg=${encodeURIComponent(await change(session.tokenName, c.get('form')))}`;
  } catch (err) {
    if (!isBulwarkError(err)) deps.log.error({ err: errorMessage(err), path: c.req.path }, 'dashboard action failed');
    const text = isBulwarkError(err) ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : 'the change failed; see the daemon log';
    query = `err=${encodeURIComponent(text)}`;
  }
  return c.redirect(`${back}${back.includes('?') ? '&' : '?'}${query}`, 303);
}

export function badInput(message: string): BulwarkError {
  return new BulwarkError('BAD_REQUEST', message);
}

/** Record an audit event; the change is already in effect, so a failed write is logged rather than undoing it. */
export async function audit(deps: DashboardDeps, event: { subsystem: string; kind: string; subject: string; data: unknown }): Promise<void> {
  try {
    await deps.store.appendEvent(event);
  } catch (err) {
    deps.log.error({ ...event, err: errorMessage(err) }, 'could not record an audit event');
  }
}
