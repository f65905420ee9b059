/**
 * PgBouncer's pools as Prometheus gauges, read (SHOW POOLS) when scraped. One
 * reading serves every gauge of a scrape (kept for 500 ms).
 */
import { Gauge, type Registry } from 'prom-client';
import type { PoolerStatus } from './pooler-service.js';
import type { PoolTotals } from './admin-console.js';

const CACHE_MS = 500;

export class PoolerMetrics {
  private cached: { at: number; statuses: Promise<PoolerStatus[]> } | undefined;

  constructor(registry: Registry, read: () => Promise<PoolerStatus[]>) {
    const registers = [registry];
    const statuses = (): Promise<PoolerStatus[]> => {
      if (!this.cached || performance.now() - this.cached.at > CACHE_MS) this.cached = { at: performance.now(), statuses: read() };
      return this.cached.statuses;
    };
    const pools = (help: string, name: string, pick: (t: PoolTotals) => number): void => {
      new Gauge({
        name, help, labelNames: ['database'], registers,
        async collect() {
          this.reset();
          for (const s of await statuses()) if (s.pools) this.set({ database: s.database }, pick(s.pools));
        },
      });
    };
    pools('PgBouncer clients paired with a server connection (cl_active)', 'bulwark_pooler_clients_active', (t) => t.clientsActive);
    pools('PgBouncer clients waiting for a server connection, e.g. while paused (cl_waiting)', 'bulwark_pooler_clients_waiting', (t) => t.clientsWaiting);
    pools('PgBouncer server connections in use (sv_active)', 'bulwark_pooler_servers_active', (t) => t.serversActive);
    pools('PgBouncer idle server connections (sv_idle)', 'bulwark_pooler_servers_idle', (t) => t.serversIdle);
    pools('How long the oldest waiting client has waited, seconds (maxwait)', 'bulwark_pooler_max_wait_seconds', (t) => t.maxWaitSeconds);
    new Gauge({
      name: 'bulwark_pooler_paused', help: '1 while PgBouncer is paused by bulwark (a switchover, or no primary)', labelNames: ['database', 'reason'], registers,
      async collect() {
        this.reset();
        for (const s of await statuses()) this.set({ database: s.database, reason: s.paused ?? 'none' }, s.paused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bulwark_pooler_repoints', help: 'Times PgBouncer was pointed at a new primary since it started', labelNames: ['database'], registers,
      async collect() {
        this.reset();
        for (const s of await statuses()) this.set({ database: s.database }, s.repoints);
      },
    });
  }
}
