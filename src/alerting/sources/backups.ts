import type { Registry } from 'prom-client';
import { formatDurationShort, type AlertCondition, type BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { BackupRunRecord, LastBackupRuns, Store } from '../../store/index.js';
import type { Signal } from '../types.js';
import { labels, tierOf, type RuleLike } from './common.js';
import { PolledSource } from './polled.js';
import { readSamples } from './registry-read.js';

export const WAL_ARCHIVE_LAG_METRIC = 'bulwark_wal_archive_lag_seconds';
/** `wal_archive_lag` for a policy the rule gives no limit for. */
export const DEFAULT_WAL_MAX_LAG_MS = 5 * 60_000;

export interface BackupSourceOptions {
  rules: readonly RuleLike[];
  config: BulwarkConfig;
  store: Pick<Store, 'lastBackupRuns'>;
  registry: Pick<Registry, 'getSingleMetric'>;
  log: Logger;
  now: () => number;
  intervalMs?: number;
}

interface PolicyFacts {
  policy: string;
  database: string | undefined;
  tier: string | undefined;
}

function policyFacts(config: BulwarkConfig, policy: string): PolicyFacts | undefined {
  const p = config.backups?.policies[policy];
  if (!p) return undefined;
  const database = p.source.postgres ?? p.source.redis;
  return { policy, database, tier: database === undefined ? undefined : tierOf(config, 'database', database) };
}

const iso = (ms: number): string => new Date(ms).toISOString();

function policyLabels(facts: PolicyFacts): Record<string, string> {
  return labels({ policy: facts.policy, database: facts.database, tier: facts.tier });
}

function runSignal(rule: RuleLike, facts: PolicyFacts, last: BackupRunRecord, at: number): Signal {
  const what = last.kind === 'verify' ? 'verification' : 'backup';
  return {
    rule: rule.name, subject: `policy/${facts.policy}`, firing: !last.ok, at,
    summary: last.ok
      ? `${what} of ${facts.policy} succeeded at ${iso(last.finishedAt)}`
      : `${what} of ${facts.policy} failed at ${iso(last.finishedAt)}: ${last.error ?? 'no error recorded'}`,
    labels: policyLabels(facts),
  };
}

/**
 * A policy that never succeeded counts from when this source started (the
 * daemon's start): a fresh install is not stale at once, one that never
 * manages a backup becomes so.
 */
function staleSignal(rule: RuleLike, facts: PolicyFacts, entry: LastBackupRuns | undefined, since: number, at: number): Signal | null {
  const maxAgeMs = rule.thresholds.maxAgeMs?.[facts.policy];
  if (maxAgeMs === undefined) return null;
  const success = entry?.lastSuccess ?? null;
  const age = Math.max(0, at - (success?.finishedAt ?? since));
  const firing = age > maxAgeMs;
  const limit = `${firing ? 'more than' : 'within'} the ${formatDurationShort(maxAgeMs)} allowed${facts.tier === undefined ? '' : ` for the ${facts.tier} tier`}`;
  const summary = success
    ? `last successful backup of ${facts.policy} finished ${formatDurationShort(age)} ago (${limit})`
    : `no successful backup of ${facts.policy} yet, ${formatDurationShort(age)} after the daemon started (${limit})`;
  return { rule: rule.name, subject: `policy/${facts.policy}`, firing, at, summary, labels: policyLabels(facts) };
}

/** backup_failed, verify_failed and backup_stale from the store's backup runs; wal_archive_lag from the archivers' gauge. */
export class BackupSource extends PolledSource {
  /** Since when a policy that never succeeded counts as without a backup. */
  private readonly startedAt: number;
  private config: BulwarkConfig;

  constructor(private readonly options: BackupSourceOptions) {
    super({
      conditions: ['backup_failed', 'verify_failed', 'backup_stale', 'wal_archive_lag'], intervalMs: options.intervalMs ?? 30_000,
      log: options.log, failure: 'reading the backup runs', now: options.now,
    }, options.rules);
    this.config = options.config;
    this.startedAt = options.now();
  }

  protected override configure(config: BulwarkConfig): void {
    this.config = config;
  }

  protected async evaluate(now: number): Promise<Signal[]> {
    const needRuns = this.index.rules.some((r) => r.when !== 'wal_archive_lag');
    const runs = needRuns ? await this.options.store.lastBackupRuns() : [];
    return [...this.fromRuns(runs, now), ...await this.walLag(now)];
  }

  private fromRuns(runs: readonly LastBackupRuns[], now: number): Signal[] {
    const latest = new Map(runs.map((r) => [`${r.kind}/${r.policy}`, r]));
    return Object.keys(this.config.backups?.policies ?? {}).flatMap((policy) => {
      const facts = policyFacts(this.config, policy);
      if (!facts) return [];
      const backup = latest.get(`backup/${policy}`);
      const verify = latest.get(`verify/${policy}`);
      const rules = (when: AlertCondition): RuleLike[] => this.index.for(when, 'policies', policy);
      return [
        ...(backup ? rules('backup_failed').map((r) => runSignal(r, facts, backup.last, now)) : []),
        ...(verify ? rules('verify_failed').map((r) => runSignal(r, facts, verify.last, now)) : []),
        ...rules('backup_stale').flatMap((r) => staleSignal(r, facts, backup, this.startedAt, now) ?? []),
      ];
    });
  }

  private async walLag(now: number): Promise<Signal[]> {
    if (this.index.of('wal_archive_lag').length === 0) return [];
    const samples = await readSamples(this.options.registry, WAL_ARCHIVE_LAG_METRIC);
    return samples.flatMap((s) => {
      const facts = s.labels.policy === undefined ? undefined : policyFacts(this.config, s.labels.policy);
      if (!facts) return [];
      return this.index.for('wal_archive_lag', 'policies', facts.policy).map((rule) => {
        const maxMs = rule.thresholds.maxLagMs?.[facts.policy] ?? DEFAULT_WAL_MAX_LAG_MS;
        const firing = s.value * 1000 > maxMs;
        return {
          rule: rule.name, subject: `policy/${facts.policy}`, firing, at: now,
          summary: `WAL archiving of ${facts.policy} is ${formatDurationShort(Math.round(s.value) * 1000)} behind (${firing ? 'more than' : 'within'} ${formatDurationShort(maxMs)})`,
          labels: policyLabels(facts),
        };
      });
    });
  }
}
