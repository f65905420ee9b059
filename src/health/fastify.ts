import type { FastifyInstance, FastifyReply } from 'fastify';
import { healthPaths, toHttp, type HealthRouteOptions, type HttpAnswer } from './http.js';
import type { Health } from './types.js';

/* Fastify is only a type here: the application brings its own fastify. */

export interface FastifyHealthOptions extends HealthRouteOptions {
  health: Health;
}

/**
 * A fastify plugin registering GET (and so HEAD) on the two paths:
 * `await app.register(fastifyHealth, { health })`. A `prefix` option applies as usual.
 */
export async function fastifyHealth(fastify: FastifyInstance, opts: FastifyHealthOptions): Promise<void> {
  const { health } = opts;
  if (!health || typeof health.ready !== 'function') {
    throw new TypeError('fastifyHealth: pass { health: createHealth({ checks }) } as the plugin options');
  }
  const paths = healthPaths(opts);
  fastify.get(paths.live, async (_req, reply) => send(reply, toHttp(health.live())));
  fastify.get(paths.ready, async (_req, reply) => send(reply, toHttp(await health.ready())));
}

function send(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}
