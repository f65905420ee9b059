import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { AlertingConfig, BulwarkConfig } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import type { AlertingStore, IncidentEventInput, IncidentPatch, OutboxInput, Store } from '../store/index.js';
import type { ResolvedRule } from './default-rules.js';
import type { AlertingMetrics } from './metrics.js';
import type { NotifyContext } from './notify.js';
import { whoIsOnCall } from './oncall.js';
import { resolveTargets, type ResolvedTargets } from './targets.js';
import type { Incident } from './types.js';

/**
 * What the engine, the escalation and the operator actions share: the
 * configuration and rules in effect, the store, and the cache of open
 * incidents (the store is the truth; the cache is rebuilt from it at start).
 * Every change of an incident goes through `change`, one at a time.
 */
/** How long work inside `serial` may hold the event loop before `breathe` lets timers and I/O run. */
const SLICE_MS = 20;

export class AlertContext {
  readonly open = new Map<number, Incident>();
  /** Open incident ids by key: the engine looks one up on every activation, and a storm has thousands open. */
  private readonly openKeys = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();
  private sliceStartedAt: number | null = null;
  config!: BulwarkConfig;
  alerting!: AlertingConfig;
  rules = new Map<string, ResolvedRule>();

  constructor(
    readonly store: AlertingStore,
    readonly events: Pick<Store, 'appendEvent'>,
    readonly log: Logger,
    readonly metrics: AlertingMetrics,
    readonly now: () => number,
    readonly baseUrl: () => string,
    readonly linkKey: string,
    readonly afterChange: (incident: Incident) => void,
  ) {}

  configure(config: BulwarkConfig, rules: readonly ResolvedRule[]): void {
    this.config = config;
    this.alerting = config.alerting ?? EMPTY_ALERTING;
    this.rules = new Map(rules.map((r) => [r.name, r]));
  }

  /** Runs `fn` after every change queued before it: incidents change one at a time. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Between units of work inside `serial` (a signal, an incident's step): once
   * this turn of the event loop has worked SLICE_MS, waits for the next, so
   * that probe timers, API requests and the sender's answers run. The queue
   * and SQLite are synchronous underneath: without it a storm of signals held
   * the loop for seconds and starved the probes (bench/alerting-engine.ts).
   */
  async breathe(): Promise<void> {
    const now = performance.now();
    if (this.sliceStartedAt === null) {
      this.sliceStartedAt = now;
      setImmediate(() => {
        this.sliceStartedAt = null;
      });
      return;
    }
    if (now - this.sliceStartedAt >= SLICE_MS) await yieldToLoop();
  }

  async load(): Promise<void> {
    this.open.clear();
    this.openKeys.clear();
    for (const incident of await this.store.openIncidents()) this.remember(incident);
  }

  openByKey(key: string): Incident | undefined {
    const id = this.openKeys.get(key);
    return id === undefined ? undefined : this.open.get(id);
  }

  async update(incident: Incident, patch: IncidentPatch, events: readonly IncidentEventInput[], outbox: readonly OutboxInput[] = []): Promise<Incident> {
    const next = await this.store.updateIncident(incident.id, patch, events, outbox);
    this.track(next);
    return next;
  }

  track(incident: Incident): void {
    if (incident.state !== 'resolved') this.remember(incident);
    else if (this.open.delete(incident.id) && this.openKeys.get(incident.key) === incident.id) this.openKeys.delete(incident.key);
    this.afterChange(incident);
  }

  private remember(incident: Incident): void {
    this.open.set(incident.id, incident);
    this.openKeys.set(incident.key, incident.id);
  }

  notifyContext(incident: Incident): NotifyContext {
    const rule = this.rules.get(incident.rule);
    return {
      config: this.config, alerting: this.alerting, now: this.now(), baseUrl: this.baseUrl(), linkKey: this.linkKey,
      template: rule?.template ?? null, resolutionTemplate: rule?.resolutionTemplate ?? null,
    };
  }

  targets(names: readonly string[], incident: Incident): ResolvedTargets {
    return resolveTargets(names, incident.severity, this.alerting, this.now(), (schedule, at) => {
      const config = this.alerting.schedules[schedule];
      return config ? whoIsOnCall(config, at).person : undefined;
    });
  }
}

export const EMPTY_ALERTING: AlertingConfig = {
  channels: {}, people: {}, schedules: {}, rules: undefined, escalation_policies: {}, notification_channels: [], severity_policies: {},
  repeat_after: undefined, resolve_after: 30_000, flapping: { changes: 4, window: 600_000, hold: 300_000 }, public_url: undefined,
  link_ttl: 86_400_000, daily_summary: undefined, update_interval: 1_800_000, review_within: 172_800_000,
};
