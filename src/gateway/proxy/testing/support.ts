import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type AddressInfo } from 'node:net';
import type { AttemptOutcome, PickedUpstream, RetryContext, RetryDecision, RoutingHooks, Upstream } from '../types.js';

/** Test helpers shared by the proxy's integration tests (real servers on port 0). */

export async function listen(server: HttpServer | NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function shut(server: HttpServer | NetServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A URL whose port was just released: connecting to it is refused. */
export async function deadUrl(scheme = 'http'): Promise<URL> {
  const server = createNetServer();
  const port = await listen(server);
  await shut(server);
  return new URL(`${scheme}://127.0.0.1:${port}`);
}

export interface RecordingHooks extends RoutingHooks {
  reports: Array<{ id: string; outcome: AttemptOutcome }>;
  retryCalls: RetryContext[];
}

/** Picks upstreams in list order, skipping tried ones; retries by `policy` (default: always). */
export function orderedHooks(upstreams: PickedUpstream[], policy?: (ctx: RetryContext) => RetryDecision): RecordingHooks {
  const reports: RecordingHooks['reports'] = [];
  const retryCalls: RetryContext[] = [];
  return {
    reports,
    retryCalls,
    pick: (_req, tried) => upstreams.find((u) => !tried.has(u.id)),
    report: (id, outcome) => reports.push({ id, outcome }),
    shouldRetry: (ctx) => {
      retryCalls.push(ctx);
      return policy ? policy(ctx) : { retry: true, delayMs: 0 };
    },
  };
}

export function upstream(id: string, port: number | URL): Upstream {
  return { id, url: typeof port === 'number' ? new URL(`http://127.0.0.1:${port}`) : port };
}

export const defaultTimeouts = { connectMs: 500, perTryMs: 2000, overallMs: 5000, headerReadMs: 2000, idleMs: 5000 };
export const defaultLimits = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 1024 * 1024 };
