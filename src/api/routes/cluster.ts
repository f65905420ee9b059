import { Hono } from 'hono';
import type { ClusterService } from '../../cluster/index.js';

/** What the cluster route needs: the running daemon's cluster membership, absent without `cluster:`. */
export type ClusterAdmin = Pick<ClusterService, 'status'> | undefined;

/** Members, who holds each singleton duty and for how long, versions; `{ enabled: false }` for a lone daemon. */
export function clusterRoutes(admin: ClusterAdmin): Hono {
  const app = new Hono();
  app.get('/cluster', async (c) => c.json(admin ? await admin.status() : { enabled: false }));
  return app;
}
