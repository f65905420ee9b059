import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { fastifyHealth } from './fastify.js';
import { expectHealthContract, fixtureHealth, get } from './testing/fixtures.js';

describe('fastify adapter', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(register: (app: FastifyInstance) => Promise<unknown>): Promise<string> {
    app = Fastify();
    await register(app);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return address;
  }

  it('plugin registers livez and readyz with the health JSON shape', async () => {
    const deps = { db: true, cache: true };
    const base = await start(async (a) => a.register(fastifyHealth, { health: fixtureHealth(deps) }));
    await expectHealthContract(base, deps);
  });

  it('honours custom paths and a prefix', async () => {
    const deps = { db: true, cache: true };
    const base = await start(async (a) =>
      a.register(fastifyHealth, { health: fixtureHealth(deps), prefix: '/ops', livePath: '/live', readyPath: '/ready' }),
    );
    await expectHealthContract(base, deps, { live: '/ops/live', ready: '/ops/ready' });
    expect((await get(`${base}/livez`)).status).toBe(404);
  });

  it('refuses to register without a health', async () => {
    app = Fastify();
    // @ts-expect-error: the health option is required
    await expect(app.register(fastifyHealth, {}).ready()).rejects.toThrow(/pass \{ health/);
  });
});
