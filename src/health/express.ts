import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { healthPaths, internalFailure, toHttp, type HealthRouteOptions, type HttpAnswer } from './http.js';
import type { Health } from './types.js';

/*
 * Express is only a type here: nothing in this file loads it at run time, so an
 * application brings its own express and Bulwark does not depend on it.
 */

/**
 * A plain middleware answering GET/HEAD on the two paths and passing everything
 * else on: `app.use(expressHealth(health))`. Paths are relative to the mount point.
 */
export function expressHealth(health: Health, options: HealthRouteOptions = {}): RequestHandler {
  const paths = healthPaths(options);
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === paths.live) return send(res, toHttp(health.live()));
    if (req.path !== paths.ready) return next();
    health.ready().then(
      (answer) => send(res, toHttp(answer)),
      () => send(res, internalFailure()),
    );
  };
}

/**
 * An express Router with the two GET routes, built by the factory the application
 * passes in: `app.use(expressHealthRouter(health, express.Router))`.
 */
export function expressHealthRouter(health: Health, createRouter: () => Router, options: HealthRouteOptions = {}): Router {
  const paths = healthPaths(options);
  const router = createRouter();
  router.get(paths.live, (_req, res) => send(res, toHttp(health.live())));
  router.get(paths.ready, (_req, res) => {
    health.ready().then(
      (answer) => send(res, toHttp(answer)),
      () => send(res, internalFailure()),
    );
  });
  return router;
}

function send(res: Response, answer: HttpAnswer): void {
  if (res.headersSent) return;
  res.status(answer.status).set(answer.headers).send(answer.body);
}
