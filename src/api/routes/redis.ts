import { Hono } from 'hono';
import type { RedisHaService } from '../../redis-ha/index.js';

/** What the Redis route needs from the running Redis HA service. */
export type RedisAdmin = Pick<RedisHaService, 'statuses'>;

/** Every Redis database: its members' roles and offsets, and which Sentinels agree on the master (asked now). */
export function redisRoutes(admin: RedisAdmin): Hono {
  const app = new Hono();
  app.get('/redis', async (c) => c.json({ redis: await admin.statuses() }));
  return app;
}
