import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { createHealth } from '../health.js';
import type { Health } from '../types.js';

/** Switches the fixture's dependencies up and down between requests. */
export interface Deps {
  db: boolean;
  cache: boolean;
}

/** A health with a critical `db` and a non-critical `cache` that reports details. */
export function fixtureHealth(deps: Deps): Health {
  return createHealth({
    timeoutMs: 500,
    checks: {
      db: {
        run: async () => {
          if (!deps.db) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        },
      },
      cache: {
        critical: false,
        run: async () => {
          if (!deps.cache) throw new Error('redis: connection lost');
          return { hits: 3 };
        },
      },
    },
  });
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

export interface Got {
  status: number;
  contentType: string | null;
  cacheControl: string | null;
  body: Record<string, unknown>;
}

export async function get(url: string): Promise<Got> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    cacheControl: res.headers.get('cache-control'),
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** The full contract every adapter must honour, run against a live server. */
export async function expectHealthContract(base: string, deps: Deps, paths = { live: '/livez', ready: '/readyz' }): Promise<void> {
  deps.db = true;
  deps.cache = true;
  const live = await get(base + paths.live);
  expect(live.status).toBe(200);
  expect(live.contentType).toContain('application/health+json');
  expect(live.cacheControl).toBe('no-store');
  expect(live.body).toEqual({ status: 'pass', timestamp: expect.any(String) });

  const ok = await get(base + paths.ready);
  expect(ok.status).toBe(200);
  expect(ok.body).toEqual({
    status: 'pass',
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    checks: {
      db: { status: 'pass', response_time: expect.any(Number) },
      cache: { status: 'pass', response_time: expect.any(Number), details: { hits: 3 } },
    },
  });

  deps.cache = false;
  const warn = await get(base + paths.ready);
  expect(warn.status).toBe(200);
  expect(warn.body.status).toBe('warn');
  expect(warn.body.checks).toMatchObject({ cache: { status: 'fail', error: 'redis: connection lost' } });

  deps.db = false;
  const fail = await get(base + paths.ready);
  expect(fail.status).toBe(503);
  expect(fail.body).toEqual({
    status: 'fail',
    timestamp: expect.any(String),
    checks: {
      db: { status: 'fail', response_time: expect.any(Number), error: 'connect ECONNREFUSED 127.0.0.1:5432' },
      cache: { status: 'fail', response_time: expect.any(Number), error: 'redis: connection lost' },
    },
  });

  const live2 = await get(base + paths.live);
  expect(live2.status).toBe(200);
}
