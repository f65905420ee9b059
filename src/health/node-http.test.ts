import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHealthHandler } from './node-http.js';
import { close, expectHealthContract, fixtureHealth, get, listen, type Deps } from './testing/fixtures.js';

describe('node:http adapter', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
  });

  async function start(deps: Deps, options = {}): Promise<string> {
    const health = nodeHealthHandler(fixtureHealth(deps), options);
    server = createServer((req, res) => {
      if (health(req, res)) return;
      res.writeHead(404).end('app 404');
    });
    return listen(server);
  }

  it('serves livez and readyz with the health JSON shape', async () => {
    const deps = { db: true, cache: true };
    await expectHealthContract(await start(deps), deps);
  });

  it('honours custom paths, query strings, HEAD, and leaves other paths to the app', async () => {
    const deps = { db: true, cache: true };
    const base = await start(deps, { livePath: '/health/live', readyPath: '/health/ready' });
    await expectHealthContract(base, deps, { live: '/health/live', ready: '/health/ready' });
    deps.db = true;
    expect((await get(`${base}/health/ready?verbose=1`)).status).toBe(200);
    const head = await fetch(`${base}/health/live`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const other = await fetch(`${base}/livez`);
    expect(other.status).toBe(404);
    expect(await other.text()).toBe('app 404');
    const post = await fetch(`${base}/health/live`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
