import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { honoHealth, registerHonoHealth } from './hono.js';
import { close, expectHealthContract, fixtureHealth, listen } from './testing/fixtures.js';

describe('hono adapter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
  });

  async function start(app: Hono): Promise<string> {
    server = createAdaptorServer({ fetch: app.fetch }) as Server;
    return listen(server);
  }

  it('registers livez and readyz on an existing app', async () => {
    const deps = { db: true, cache: true };
    const app = new Hono();
    registerHonoHealth(app, fixtureHealth(deps));
    app.get('/other', (c) => c.text('app'));
    const base = await start(app);
    await expectHealthContract(base, deps);
    expect(await (await fetch(`${base}/other`)).text()).toBe('app');
  });

  it('returns a sub-app mountable under a prefix with custom paths', async () => {
    const deps = { db: true, cache: true };
    const app = new Hono();
    app.route('/ops', honoHealth(fixtureHealth(deps), { livePath: '/live', readyPath: '/ready' }));
    await expectHealthContract(await start(app), deps, { live: '/ops/live', ready: '/ops/ready' });
  });
});
