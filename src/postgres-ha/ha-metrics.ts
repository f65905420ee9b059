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
  private readonly drift: Counter<'database' | 'member' | 'setting'>;
  private readonly aloneSeconds: Counter<'database' | 'member'>;
  private readonly aloneTransactions: Counter<'database' | 'member'>;

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
    this.drift = new Counter({
      name: 'bulwark_db_setting_drift_total', help: 'Settings the leader owns (synchronous_standby_names) found changed behind its back and restored',
      labelNames: ['database', 'member', 'setting'], registers,
    });
    this.aloneSeconds = new Counter({
      name: 'bulwark_db_without_sync_standby_seconds_total', help: 'Synchronous mode: seconds this primary ran with an empty synchronous_standby_names (commits acknowledged by it alone)',
      labelNames: ['database', 'member'], registers,
    });
    this.aloneTransactions = new Counter({
      name: 'bulwark_db_commits_without_sync_standby_total', help: 'Synchronous mode: write transactions this primary took while it had no synchronous standby (transaction ids assigned)',
      labelNames: ['database', 'member'], registers,
    });
  }

  recordDrift(database: string, member: string, setting: string): void {
    this.drift.inc({ database, member, setting });
  }

  recordWithoutStandby(database: string, member: string, ms: number, transactions: number): void {
    this.aloneSeconds.inc({ database, member }, ms / 1000);
    if (transactions > 0) this.aloneTransactions.inc({ database, member }, transactions);
  }

  recordPromotion(database: string, entry: HistoryEntry): void {
    this.failovers.inc({ database, kind: entry.kind });
    this.lastFailover.set({ database }, entry.durationMs / 1000);
  }
}
