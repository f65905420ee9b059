import { Pool } from 'undici';
import type { Upstream, UpstreamTlsOptions } from './types.js';

export interface PoolSettings {
  connectMs: number;
  idleMs: number;
  /** For https:// upstreams; undici's defaults (system roots, the URL's host) when absent. */
  tls?: UpstreamTlsOptions | undefined;
}

/** One keep-alive undici Pool per upstream id, replaced if the id's URL changes. */
export class UpstreamPools {
  private readonly pools = new Map<string, { origin: string; pool: Pool }>();

  constructor(private readonly settings: PoolSettings) {}

  get(upstream: Upstream): Pool {
    const origin = upstream.url.origin;
    const existing = this.pools.get(upstream.id);
    if (existing?.origin === origin) return existing.pool;
    if (existing) void existing.pool.close().catch(() => undefined);
    const pool = new Pool(origin, {
      connect: { timeout: this.settings.connectMs, ...tlsConnectOptions(this.settings.tls) },
      keepAliveTimeout: this.settings.idleMs,
      // The per-try signal bounds the wait for headers; undici's own timer would race it.
      headersTimeout: 0,
      bodyTimeout: this.settings.idleMs,
    });
    this.pools.set(upstream.id, { origin, pool });
    return pool;
  }

  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(all.map(({ pool }) => pool.destroy()));
  }
}

function tlsConnectOptions(tls: UpstreamTlsOptions | undefined): Record<string, unknown> {
  if (!tls) return {};
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername }),
  };
}
