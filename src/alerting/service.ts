import type { Registry } from 'prom-client';
import type { BulwarkConfig } from '../config/index.js';
import type { Subsystem } from '../core/lifecycle.js';
import { BulwarkError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { EventBus } from '../events/index.js';
import type { DatabaseHaEvents } from '../postgres-ha/index.js';
import type { ProbeEvents } from '../probes/index.js';
import type { Store } from '../store/index.js';
import { createChannel, STATUS_SUBSCRIBERS_CHANNEL, subscriberWebhookChannel, type SubscriberWebhookOptions } from './channels/index.js';
import { AlertContext } from './context.js';
import { effectiveRules } from './default-rules.js';
import { AlertEngine } from './engine.js';
import { advanceDue } from './incidents.js';
import { IncidentActionsImpl } from './actions.js';
import { LINK_KEY_SETTING, newLinkKey } from './links.js';
import { registerAlertingMetrics, type AlertingMetrics } from './metrics.js';
import { reconcileDelayMs } from './reconcile.js';
import { OpenIncidentWatch } from './open-watch.js';
import { OutboxSender } from './sender.js';
import { createSources, type ProbeViews, type SignalSources, type SignalSourcesOptions } from './sources/index.js';
import { DailySummary } from './summary.js';
import type { Channel, Incident, IncidentActions } from './types.js';

export interface AlertingServiceOptions {
  config: BulwarkConfig;
  store: Store;
  bus: EventBus<ProbeEvents & DatabaseHaEvents>;
  registry: Registry;
  log: Logger;
  /** Where links in notifications point when `alerting.public_url` is not set: the admin API's address, once it listens. */
  apiUrl: () => string;
  probes?: ProbeViews;
  now?: () => number;
  createChannel?: (name: string, config: NonNullable<BulwarkConfig['alerting']>['channels'][string]) => Channel;
  intervals?: SignalSourcesOptions['intervals'];
  /** After a restart, alerts of open incidents that no source reports firing within this time are taken as cleared; default: `reconcileDelayMs(config)`. */
  reconcileAfterMs?: number;
  /** The status page subscribers' webhook channel (tests let it reach local receivers). */
  subscriberWebhooks?: SubscriberWebhookOptions;
}

/** One channel carries every subscriber's webhook: a configured channel's default of 60 a minute would hold a large list back. */
const SUBSCRIBER_WEBHOOKS_PER_MINUTE = 600;

/**
 * Alerting as a subsystem: condition sources feed the engine, which opens,
 * groups and escalates incidents in the store; the outbox sender delivers.
 * Idle (no timers) without an `alerting` section.
 */
export class AlertingService implements Subsystem<BulwarkConfig> {
  readonly name = 'alerting';
  private ctx!: AlertContext;
  private engine!: AlertEngine;
  private sender!: OutboxSender;
  private sources: SignalSources | undefined;
  private summary: DailySummary | undefined;
  private channels = new Map<string, Channel>();
  private watch: OpenIncidentWatch | undefined;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private actionsImpl: IncidentActionsImpl | undefined;
  private readonly metrics: AlertingMetrics;
  private readonly now: () => number;
  private config: BulwarkConfig;
  private started = false;

  constructor(private readonly options: AlertingServiceOptions) {
    this.metrics = registerAlertingMetrics(options.registry);
    this.now = options.now ?? Date.now;
    this.config = options.config;
  }

  /** Bound now, usable once started (the API is built before the subsystems start). */
  readonly actions: IncidentActions = new Proxy({} as IncidentActions, {
    get: (_target, method: keyof IncidentActions) => (...args: unknown[]) => {
      if (!this.actionsImpl) throw new BulwarkError('NOT_READY', 'alerting has not started yet', { hint: 'retry in a moment' });
      return (this.actionsImpl[method] as (...a: unknown[]) => unknown).apply(this.actionsImpl, args);
    },
  });

  async start(): Promise<void> {
    const { store, log } = this.options;
    const linkKey = await store.alerting.setting(LINK_KEY_SETTING, newLinkKey);
    const released = await store.alerting.releaseClaims();
    if (released > 0) log.warn({ notifications: released }, 'notifications a previous run was sending go out again (their outcome was lost; receivers that honour Idempotency-Key drop repeats)');
    this.ctx = new AlertContext(store.alerting, store, log, this.metrics, this.now, () => this.baseUrl(), linkKey, (incident) => this.changed(incident));
    this.engine = new AlertEngine(this.ctx);
    this.watch = new OpenIncidentWatch(this.ctx, () => void this.tick());
    this.actionsImpl = new IncidentActionsImpl(this.ctx, this.engine);
    this.apply(this.config);
    await this.ctx.load();
    await this.engine.refreshSilences();
    this.sender = new OutboxSender({
      store: store.alerting, channels: () => this.channels, rateLimits: () => this.rateLimits(), metrics: this.metrics, log,
      now: this.now,
    });
    this.sender.start();
    this.summary = new DailySummary({ config: () => this.config, store, registry: this.options.registry, log, now: this.now, queued: () => this.sender.wake() });
    this.summary.start();
    this.startSources();
    this.silenceTimer = setInterval(() => void this.engine.refreshSilences().catch(() => undefined), 15_000);
    this.silenceTimer.unref();
    this.reconcileTimer = setTimeout(() => void this.reconcile(), this.options.reconcileAfterMs ?? reconcileDelayMs(this.config));
    this.reconcileTimer.unref();
    this.started = true;
    this.changed();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.sources?.stop();
    this.engine?.stop();
    this.summary?.stop();
    this.watch?.stop();
    for (const t of [this.reconcileTimer, this.silenceTimer]) if (t) clearTimeout(t);
    await this.sender?.stop();
    await this.closeChannels();
  }

  async reload(config: BulwarkConfig): Promise<void> {
    this.config = config;
    if (!this.started) return;
    await this.closeChannels();
    this.apply(config);
    this.sources?.reload([...this.ctx.rules.values()], config);
    // What the reload cleared (alerts of removed rules) is applied before it returns.
    await this.ctx.serial(async () => undefined);
    this.changed();
  }

  /** Rows were queued from outside (the status page's subscriptions): deliver them now rather than at the sender's next wake-up. */
  outboxChanged(): void {
    if (this.started) this.sender.wake();
  }

  ready(): boolean {
    return this.started;
  }

  private apply(config: BulwarkConfig): void {
    this.ctx.configure(config, config.alerting ? effectiveRules(config) : []);
    const make = this.options.createChannel ?? createChannel;
    this.channels = new Map(Object.entries(config.alerting?.channels ?? {}).map(([name, c]) => [name, make(name, c)]));
    // Reserved name: set after the configured ones so that none can take it over.
    if (config.status_page?.subscriptions.webhooks) this.channels.set(STATUS_SUBSCRIBERS_CHANNEL, subscriberWebhookChannel(this.options.subscriberWebhooks));
  }

  private startSources(): void {
    if (!this.config.alerting) return;
    this.sources = createSources({
      rules: [...this.ctx.rules.values()], config: this.config, bus: this.options.bus, store: this.options.store,
      registry: this.options.registry, log: this.options.log, now: this.now, probes: this.options.probes, intervals: this.options.intervals,
    });
    this.sources.start((signals) => void this.engine.handle(signals));
  }

  private rateLimits(): Map<string, number> {
    return new Map([...Object.entries(this.config.alerting?.channels ?? {}).map(([name, c]): [string, number] => [name, c.rate_limit]), [STATUS_SUBSCRIBERS_CHANNEL, SUBSCRIBER_WEBHOOKS_PER_MINUTE]]);
  }

  private baseUrl(): string {
    return this.config.alerting?.public_url ?? this.options.apiUrl();
  }

  /** After any incident change: deliver what was queued, and wake when the next step is due. */
  private changed(incident?: Incident): void {
    if (!this.started) return;
    this.sender.wake();
    this.watch!.changed(incident);
  }

  private async tick(): Promise<void> {
    await this.ctx.serial(() => advanceDue(this.ctx));
    this.changed();
  }

  /** Open incidents whose alerts no source reports any more (they cleared while the daemon was down). */
  private async reconcile(): Promise<void> {
    await this.engine.reconcile();
  }

  private async closeChannels(): Promise<void> {
    await Promise.all([...this.channels.values()].map((c) => c.close?.().catch(() => undefined)));
  }
}
