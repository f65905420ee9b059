import { Hono } from 'hono';
import type { PoolerService } from '../../postgres-ha/index.js';

/** What the pooler route needs from the running PgBouncer service. */
export type PoolerAdmin = Pick<PoolerService, 'statuses'>;

/** The PgBouncers this daemon runs (`postgres.pooler`): where they point, whether paused, and their pools (SHOW POOLS). */
export function poolerRoutes(admin: PoolerAdmin): Hono {
  const app = new Hono();
  app.get('/poolers', async (c) => c.json({ poolers: await admin.statuses() }));
  return app;
}
