import type { Registry } from 'prom-client';
import type { AlertCondition, BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { EventBus } from '../../events/index.js';
import type { DatabaseHaEvents } from '../../postgres-ha/index.js';
import type { ProbeEvents } from '../../probes/index.js';
import type { Store } from '../../store/index.js';
import type { Signal } from '../types.js';
import { BackupSource } from './backups.js';
import { BurnSource } from './burn.js';
import { CertificateSource } from './certificates.js';
import type { Emit, RuleLike, SignalSources } from './common.js';
import { DatabaseSource } from './database.js';
import { DrillSource } from './drills.js';
import { MetricSource } from './metric.js';
import type { ProbeViews } from './probe-model.js';
import { ProbeSource } from './probes.js';

export type { Emit, RuleLike, SignalSources } from './common.js';
export type { ProbeViews } from './probe-model.js';

/** Conditions a rule may name that nothing watches yet, and why: `check` and `plan` say "not yet". */
export const UNSOURCED_CONDITIONS: ReadonlyArray<{ condition: AlertCondition; reason: string }> = Object.freeze([
]);

export function unsourcedReason(condition: AlertCondition): string | undefined {
  return UNSOURCED_CONDITIONS.find((u) => u.condition === condition)?.reason;
}

export interface SignalSourcesOptions {
  rules: readonly RuleLike[];
  config: BulwarkConfig;
  bus: EventBus<ProbeEvents & DatabaseHaEvents>;
  store: Pick<Store, 'lastBackupRuns' | 'stateChanges' | 'drillRuns'>;
  registry: Pick<Registry, 'getSingleMetric'>;
  log: Logger;
  now?: () => number;
  /** The probe engine (or anything with its views): a restarted daemon re-derives firing alerts from it at start. */
  probes?: ProbeViews;
  /** Poll intervals; the defaults are 5 s (database), 30 s (backups and drills), 60 s (burn), 10 s (metric), 60 s (certificates). */
  intervals?: Partial<Record<'database' | 'backups' | 'burn' | 'metric' | 'certificates' | 'drills', number>>;
}

/** Every condition source, started and stopped together; signals come out through one `emit`. */
export function createSources(options: SignalSourcesOptions): SignalSources {
  const now = options.now ?? Date.now;
  const { rules, config, log, registry, store } = options;
  const intervals = options.intervals ?? {};
  const sources: SignalSources[] = [
    new ProbeSource({ rules, config, bus: options.bus, views: options.probes, now }),
    new DatabaseSource({ rules, config, bus: options.bus, registry, log, now, intervalMs: intervals.database }),
    new BackupSource({ rules, config, store, registry, log, now, intervalMs: intervals.backups }),
    new BurnSource({ rules, config, store, log, now, intervalMs: intervals.burn }),
    new MetricSource({ rules, registry, log, now, intervalMs: intervals.metric }),
    new CertificateSource({ rules, config, log, now, intervalMs: intervals.certificates }),
    new DrillSource({ rules, config, store, log, now, intervalMs: intervals.drills }),
  ];
  return {
    start: (emit: Emit) => sources.forEach((s) => s.start(emit)),
    stop: () => sources.forEach((s) => s.stop()),
    reload: (nextRules: readonly RuleLike[], nextConfig: BulwarkConfig) => sources.forEach((s) => s.reload(nextRules, nextConfig)),
    snapshot: (): Signal[] => sources.flatMap((s) => s.snapshot()),
  };
}
