import { Hono, type Env, type Schema } from 'hono';
import { healthPaths, toHttp, type HealthRouteOptions } from './http.js';
import type { Health } from './types.js';

/**
 * Registers GET (and so HEAD) on the two paths of an existing Hono app:
 * `registerHonoHealth(app, health)`.
 */
export function registerHonoHealth<E extends Env, S extends Schema, B extends string>(
  app: Hono<E, S, B>,
  health: Health,
  options: HealthRouteOptions = {},
): void {
  const paths = healthPaths(options);
  app.get(paths.live, () => respond(toHttp(health.live())));
  app.get(paths.ready, async () => respond(toHttp(await health.ready())));
}

/** A Hono sub-app with the two routes: `app.route('/', honoHealth(health))`. */
export function honoHealth(health: Health, options: HealthRouteOptions = {}): Hono {
  const app = new Hono();
  registerHonoHealth(app, health, options);
  return app;
}

function respond(answer: { status: number; headers: Readonly<Record<string, string>>; body: string }): Response {
  return new Response(answer.body, { status: answer.status, headers: { ...answer.headers } });
}
