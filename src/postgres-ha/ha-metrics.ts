/**
 * Prometheus metrics of the members this daemon runs. Per-member gauges are
 * read from the managers' snapshots at scrape time, so a removed member's
 * series disappear with it; failovers are counted as the new primary records them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HistoryEntry } from './keys.js';
import type { MemberSnapshot } from './member-manager.js';

export interface MemberSample {
  database: string;
  snapshot: MemberSnapshot;
}

const ROLES: ReadonlyArray<MemberSnapshot['role']> = ['primary', 'replica', 'stopped', 'unknown'];

export class HaMetrics {
  private readonly failovers: Counter<'database' | 'kind'>;
  private readonly lastFailover: Gauge<'database'>;

  constructor(registry: Registry, samples: () => MemberSample[]) {
    const registers = [registry];
    new Gauge({
      name: 'bulwark_db_member_role', help: 'PostgreSQL member role (1 for the current one): primary, replica, stopped, unknown',
      labelNames: ['database', 'member', 'role'], registers,
      collect() {
        this.reset();
        for (const { database, snapshot: s } of samples()) {
          for (const role of ROLES) this.set({ database, member: s.name, role }, s.role === role ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'bulwark_db_member_leader', help: '1 while the member holds the leader lease', labelNames: ['database', 'member'], registers,
      collect() {
        this.reset();
        for (const { database, snapshot: s } of samples()) this.set({ database, member: s.name }, s.leader ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bulwark_db_member_fenced', help: '1 while the member is fenced (stopped so it cannot accept writes)', labelNames: ['database', 'member'], registers,
      collect() {
        this.reset();
        for (const { database, snapshot: s } of samples()) this.set({ database, member: s.name }, s.fenced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'bulwark_db_member_lag_bytes', help: 'Replica: bytes behind the primary\'s last published WAL position', labelNames: ['database', 'member'], registers,
      collect() {
        this.reset();
        for (const { database, snapshot: s } of samples()) if (s.lagBytes !== undefined) this.set({ database, member: s.name }, s.lagBytes);
      },
    });
    this.failovers = new Counter({
      name: 'bulwark_db_failovers_total', help: 'Promotions completed by members on this host, by kind (failover, switchover, manual-failover)',
      labelNames: ['database', 'kind'], registers,
    });
    this.lastFailover = new Gauge({
      name: 'bulwark_db_last_failover_duration_seconds', help: 'The last promotion on this host: from the old leader gone (or the handover start) to accepting writes',
      labelNames: ['database'], registers,
    });
  }

  recordPromotion(database: string, entry: HistoryEntry): void {
    this.failovers.inc({ database, kind: entry.kind });
    this.lastFailover.set({ database }, entry.durationMs / 1000);
  }
}
