import type { Registry } from 'prom-client';
import type { BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { EventBus } from '../../events/index.js';
import type { DatabaseHaEvents, HistoryEntry } from '../../postgres-ha/index.js';
import type { Signal } from '../types.js';
import { labels, rulesFor, tierOf, type Emit, type RuleLike } from './common.js';
import { PolledSource } from './polled.js';
import { formatBytes, readSamples, type Sample } from './registry-read.js';

export const WITHOUT_SYNC_STANDBY_METRIC = 'bulwark_db_without_sync_standby_seconds_total';
export const MEMBER_LAG_METRIC = 'bulwark_db_member_lag_bytes';
/** `replication_lag` for a database the rule gives no limit for: one WAL segment. */
export const DEFAULT_MAX_LAG_BYTES = 16 * 1024 * 1024;

export interface DatabaseSourceOptions {
  rules: readonly RuleLike[];
  config: BulwarkConfig;
  bus: EventBus<DatabaseHaEvents>;
  registry: Pick<Registry, 'getSingleMetric'>;
  log: Logger;
  now: () => number;
  intervalMs?: number;
}

const KIND_WORDS: Record<HistoryEntry['kind'], string> = {
  failover: 'failed over', switchover: 'switched over', 'manual-failover': 'was failed over by hand',
};

export function failoverSignal(rule: RuleLike, event: DatabaseHaEvents['database.failover'], config: BulwarkConfig): Signal {
  const { database, entry } = event;
  const subject = `database/${database}`;
  const from = entry.from === undefined ? 'an unknown primary' : entry.from;
  return {
    rule: rule.name, subject, firing: true, at: event.at, oneShot: true,
    summary: `${database} ${KIND_WORDS[entry.kind]} from ${from} to ${entry.to} (${entry.kind}, ${(entry.durationMs / 1000).toFixed(1)} s)`,
    labels: labels({ database, tier: tierOf(config, 'database', database), kind: entry.kind, member: entry.to, from: entry.from }),
  };
}

function sumBy(samples: readonly Sample[], label: string): Map<string, { total: number; members: Map<string, number> }> {
  const out = new Map<string, { total: number; members: Map<string, number> }>();
  for (const s of samples) {
    const key = s.labels[label];
    if (key === undefined) continue;
    const entry = out.get(key) ?? { total: 0, members: new Map<string, number>() };
    entry.total += s.value;
    entry.members.set(s.labels.member ?? '', s.value);
    out.set(key, entry);
  }
  return out;
}

/**
 * failover (one-shot, from the bus), no_sync_standby and replication_lag
 * (from the postgres-ha metrics, polled).
 */
export class DatabaseSource extends PolledSource {
  private config: BulwarkConfig;
  /** The without-standby counter per database at the last poll. */
  private lastAlone: Map<string, { total: number; members: Map<string, number> }> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: DatabaseSourceOptions) {
    super({
      conditions: ['failover', 'no_sync_standby', 'replication_lag'], intervalMs: options.intervalMs ?? 5_000,
      log: options.log, failure: 'reading the database metrics', now: options.now,
    }, options.rules);
    this.config = options.config;
  }

  override start(emit: Emit): void {
    this.unsubscribe = this.options.bus.on('database.failover', (e) => {
      const signals = this.index.for('failover', 'databases', e.database).map((r) => failoverSignal(r, e, this.config));
      if (signals.length > 0) emit(signals);
    });
    super.start(emit);
  }

  override stop(): void {
    this.unsubscribe?.();
    super.stop();
  }

  protected override configure(config: BulwarkConfig): void {
    this.config = config;
  }

  /** Failovers are one-shot events from the bus; only the metric rules are polled. */
  protected override polledRules(): ReadonlySet<string> {
    return new Set(rulesFor(this.index.rules, 'no_sync_standby', 'replication_lag').map((r) => r.name));
  }

  protected async evaluate(now: number): Promise<Signal[]> {
    return [...await this.withoutStandby(now), ...await this.lagging(now)];
  }

  private async withoutStandby(now: number): Promise<Signal[]> {
    const current = sumBy(await readSamples(this.options.registry, WITHOUT_SYNC_STANDBY_METRIC), 'database');
    const previous = this.lastAlone;
    this.lastAlone = current;
    // The first poll only sets the baseline: growth needs two readings.
    if (!previous) return [];
    return [...current].flatMap(([database, cur]) => {
      const rules = this.index.for('no_sync_standby', 'databases', database);
      const before = previous.get(database);
      const grew = before !== undefined && cur.total > before.total;
      const alone = [...cur.members].filter(([m, v]) => v > (before?.members.get(m) ?? v)).map(([m]) => m).join(', ');
      return rules.map((rule) => ({
        rule: rule.name, subject: `database/${database}`, firing: grew, at: now,
        summary: grew
          ? `${database} has no synchronous standby: ${alone || 'the primary'} acknowledges commits alone`
          : `${database} has a synchronous standby again`,
        labels: labels({ database, tier: tierOf(this.config, 'database', database), member: alone || undefined }),
      }));
    });
  }

  private async lagging(now: number): Promise<Signal[]> {
    if (this.index.of('replication_lag').length === 0) return [];
    const samples = await readSamples(this.options.registry, MEMBER_LAG_METRIC);
    return samples.flatMap((s) => {
      const { database, member } = s.labels;
      if (database === undefined || member === undefined) return [];
      return this.index.for('replication_lag', 'databases', database).map((rule) => {
        const max = rule.thresholds.maxLagBytes?.[database] ?? DEFAULT_MAX_LAG_BYTES;
        const firing = s.value > max;
        return {
          rule: rule.name, subject: `database/${database}/${member}`, firing, at: now,
          summary: `${database} member ${member} is ${formatBytes(s.value)} behind the primary (${firing ? 'more than' : 'within'} ${formatBytes(max)})`,
          labels: labels({ database, member, tier: tierOf(this.config, 'database', database) }),
        };
      });
    });
  }
}
