import { createServer, type Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { expressHealth, expressHealthRouter } from './express.js';
import { close, expectHealthContract, fixtureHealth, listen } from './testing/fixtures.js';

describe('express adapter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
  });

  it('middleware serves livez and readyz and passes other requests on', async () => {
    const deps = { db: true, cache: true };
    const app = express();
    app.use(expressHealth(fixtureHealth(deps)));
    app.get('/other', (_req, res) => {
      res.send('app');
    });
    server = createServer(app);
    const base = await listen(server);
    await expectHealthContract(base, deps);
    expect(await (await fetch(`${base}/other`)).text()).toBe('app');
  });

  it('router from the passed express.Router factory, mounted under a prefix with custom paths', async () => {
    const deps = { db: true, cache: true };
    const app = express();
    app.use('/ops', expressHealthRouter(fixtureHealth(deps), express.Router, { livePath: '/live', readyPath: '/ready' }));
    server = createServer(app);
    await expectHealthContract(await listen(server), deps, { live: '/ops/live', ready: '/ops/ready' });
  });
});

describe('express adapter module', () => {
  it('does not load express at run time', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('./express.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^import (?!type )[^;]*from 'express'/m);
  });
});
