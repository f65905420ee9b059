import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { BulwarkError } from '../core/errors.js';
import { findingToJSON, hasErrors, parseConfigText } from '../config/index.js';
import type { Store } from '../store/index.js';
import type { CoreMetrics } from '../metrics/index.js';
import { FailureThrottle, requireToken } from './auth.js';
import { errorBody, statusOf } from './errors.js';

export interface ApiDependencies {
  store: Store;
  registry: Registry;
  metrics: CoreMetrics;
  log: Logger;
  isReady(): boolean;
  /** The running configuration, already redacted. */
  currentConfig(): { file: string; checksum: string; appliedAt: string; config: unknown };
  status(): Record<string, unknown>;
  /** More Prometheus text, from processes this one supervises (gateway workers). */
  extraMetrics?: () => Promise<string>;
  /** Routes that subsystems add under /api/v1 (behind the token guard). */
  routes?: Array<{ path: string; app: Hono }>;
  /** Routes outside the token guard that carry their own credential (signed incident links at /links). */
  publicRoutes?: Array<{ path: string; app: Hono }>;
  /** Refused credentials per client address; share it with the dashboard's sign-in so both count together. */
  authThrottle?: FailureThrottle;
}

const MAX_VALIDATE_BODY = 1024 * 1024;

export function createApiApp(deps: ApiDependencies): Hono {
  const app = new Hono();
  app.use('*', observe(deps));
  app.get('/healthz', (c) => c.json({ status: 'alive' }));
  app.get('/readyz', (c) => (deps.isReady() ? c.json({ status: 'ready' }) : c.json({ status: 'not ready' }, 503)));
  app.get('/metrics', async (c) => {
    const extra = deps.extraMetrics ? await deps.extraMetrics().catch(() => '') : '';
    return c.text(`${await deps.registry.metrics()}${extra ? `\n${extra}` : ''}`, 200, { 'content-type': deps.registry.contentType });
  });

  const v1 = new Hono();
  v1.use('*', requireToken(deps.store, deps.authThrottle ?? new FailureThrottle(deps.log)));
  v1.get('/config', (c) => c.json(deps.currentConfig()));
  v1.get('/status', (c) => c.json(deps.status()));
  v1.get('/events', async (c) => c.json({ events: await deps.store.recentEvents({ limit: boundedLimit(c.req.query('limit')) }) }));
  v1.post('/config/validate', bodyLimit({ maxSize: MAX_VALIDATE_BODY, onError: tooLarge }), async (c) => {
    // Never resolve ${env:...} against the daemon's own environment: a finding that
    // quotes a resolved value would hand the daemon's secrets to the caller.
    const loaded = parseConfigText(await c.req.text(), 'request-body', { resolveSecrets: false });
    return c.json({ ok: !loaded.unusable && !hasErrors(loaded.findings), findings: loaded.findings.map(findingToJSON) });
  });
  for (const extra of deps.routes ?? []) v1.route(extra.path, extra.app);
  app.route('/api/v1', v1);
  for (const open of deps.publicRoutes ?? []) app.route(open.path, open.app);

  app.notFound((c) => c.json(errorBody(new BulwarkError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`)), 404));
  app.onError((err, c) => {
    const status = statusOf(err);
    if (status >= 500) deps.log.error({ err: (err as Error).message, path: c.req.path }, 'API request failed');
    return c.json(errorBody(err), status);
  });
  return app;
}

function observe(deps: ApiDependencies) {
  return async (c: import('hono').Context, next: () => Promise<void>) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    deps.metrics.httpRequests.inc({ route, method: c.req.method, status: String(c.res.status) });
    deps.metrics.httpDuration.observe({ route, method: c.req.method }, (performance.now() - started) / 1000);
  };
}

function tooLarge(): never {
  throw new BulwarkError('BAD_REQUEST', `the configuration is larger than ${MAX_VALIDATE_BODY} bytes`);
}

function boundedLimit(raw: string | undefined): number {
  const limit = Number(raw ?? 100);
  return Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1000) : 100;
}
