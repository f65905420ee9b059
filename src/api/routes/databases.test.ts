import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { configFrom, fakeService } from '../../testing/fake-ha.js';
import { freePort } from '../../testing/net.js';
import { errorBody, statusOf } from '../errors.js';
import { databaseRoutes } from './databases.js';

const CONFIG = `coordination:
  etcd: { endpoints: [http://10.9.9.9:2379] }
databases:
  main:
    postgres:
      members:
        - { name: a, port: 5432, data_dir: /srv/a, health_port: 8008 }
        - { name: b, host: 10.0.0.2, port: 5432 }
      superuser_password: pw
  reports:
    postgres: { members: [{ name: r1, host: 10.0.1.1, port: 5432 }] }
  cache:
    redis: { members: [{ name: k1, port: 6379 }] }
`;

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

let healthPort = 0;

async function setup() {
  healthPort = await freePort();
  const f = fakeService(configFrom(CONFIG.replace('health_port: 8008', `health_port: ${healthPort}`)));
  stops.push(() => f.service.stop(AbortSignal.timeout(5000)));
  await f.service.start();
  const keys = f.etcds[0]!.etcd.keys;
  keys.set('/bulwark/db/main/leader', 'a');
  keys.set('/bulwark/db/main/sync', JSON.stringify({ leader: 'a', members: ['b'] }));
  keys.set('/bulwark/db/main/members/b', JSON.stringify({ role: 'replica', timeline: 2, lsn: '0/4000000', fenced: false, host: '10.0.0.2', port: 5432, following: 'a', lagBytes: 16 }));
  keys.set('/bulwark/db/main/history', JSON.stringify([{ kind: 'failover', from: 'b', to: 'a', timeline: 2, at: '2026-01-01T00:00:00Z', durationMs: 1100 }]));
  f.manager('a').current = { ...f.manager('a').current, role: 'primary', leader: true, state: 'primary holding the leader lease', lagBytes: undefined };
  // Mounted as the API mounts it: errors mapped in the one place that maps them.
  const app = new Hono();
  app.route('/', databaseRoutes(f.service));
  app.onError((err, c) => c.json(errorBody(err), statusOf(err)));
  return app;
}

describe('database routes', () => {
  it('lists every PostgreSQL database with its members, leader, sync set and history', async () => {
    const app = await setup();
    const res = await app.request('/databases');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { databases: Array<Record<string, unknown>> };
    expect(body.databases.map((d) => d.name)).toEqual(['main', 'reports']);
    expect(body.databases[1]).toMatchObject({ managed_here: false, failover: 'automatic', leader: null });
  });

  it('shows one database', async () => {
    const app = await setup();
    const res = await app.request('/databases/main');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: 'main', kind: 'postgres', failover: 'automatic', managed_here: true, leader: 'a', sync: { leader: 'a', members: ['b'] }, etcd_revision: 1,
      members: [
        {
          name: 'a', host: '127.0.0.1', port: 5432, local: true, health_port: healthPort, record: null,
          snapshot: { role: 'primary', leader: true, fenced: false, state: 'primary holding the leader lease', timeline: 1, lsn: '0/3000000', following: null, lag_bytes: null },
        },
        {
          name: 'b', host: '10.0.0.2', port: 5432, local: false, health_port: null, snapshot: null,
          record: { role: 'replica', timeline: 2, lsn: '0/4000000', fenced: false, state: null, following: 'a', lag_bytes: 16, mod_revision: 1, at: null, age_ms: null },
        },
      ],
      history: [{ kind: 'failover', from: 'b', to: 'a', timeline: 2, at: '2026-01-01T00:00:00Z', duration_ms: 1100 }],
    });
  });

  it('404 for an unknown name or a database that is not PostgreSQL, naming the ones there are', async () => {
    const app = await setup();
    for (const name of ['nope', 'cache']) {
      const res = await app.request(`/databases/${name}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: `no PostgreSQL database "${name}" in the configuration`, hint: 'one of: main, reports' } });
    }
  });
});
