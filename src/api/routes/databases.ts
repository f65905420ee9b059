import { Hono } from 'hono';
import { BulwarkError } from '../../core/errors.js';
import type { DatabaseHaService } from '../../postgres-ha/index.js';

/** What the database routes need from the running PostgreSQL HA service. */
export type DatabaseAdmin = Pick<DatabaseHaService, 'databases' | 'database' | 'databaseNames'>;

/**
 * PostgreSQL databases and their failover state: every member (with this
 * daemon's snapshot of the ones it runs), and from etcd the leader, the
 * synchronous set, what each member published and the failover history.
 */
export function databaseRoutes(admin: DatabaseAdmin): Hono {
  const app = new Hono();
  app.get('/databases', async (c) => c.json({ databases: await admin.databases() }));
  app.get('/databases/:name', async (c) => {
    const name = c.req.param('name');
    const view = await admin.database(name);
    if (!view) {
      const names = admin.databaseNames();
      throw new BulwarkError('NOT_FOUND', `no PostgreSQL database "${name}" in the configuration`, {
        hint: names.length > 0 ? `one of: ${names.join(', ')}` : 'declare it under databases.NAME.postgres',
      });
    }
    return c.json(view);
  });
  return app;
}
