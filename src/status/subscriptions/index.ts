import type { Hono } from 'hono';
import type { BulwarkConfig } from '../../config/index.js';
import type { Logger } from '../../core/logger.js';
import type { SubscriberWebhookOptions } from '../../alerting/index.js';
import { SubscriptionFanout, type FanoutDeps } from './fanout.js';
import { subscriptionRoutes, type SubscriptionDeps } from './routes.js';

export { subscriptionRoutes, type SubscriptionDeps } from './routes.js';
export { SubscriptionFanout, type FanoutDeps } from './fanout.js';

/** What the status page server is given for subscriptions (the daemon's store and alerting). */
export interface SubscriptionsOptions {
  store: SubscriptionDeps['store'] & FanoutDeps['store'];
  /** New rows are in the outbox: wake its sender. */
  queued?: () => void;
  webhook?: SubscriberWebhookOptions;
  fanoutIntervalMs?: number;
}

/** The routes to mount on the status listener and the fan-out loop that runs while it listens. */
export class Subscriptions {
  readonly routes: Hono;
  private readonly fanout: SubscriptionFanout;

  constructor(options: SubscriptionsOptions, context: { config: () => BulwarkConfig; log: Logger; baseUrl: () => string; now?: () => number }) {
    this.routes = subscriptionRoutes({ store: options.store, config: context.config, now: context.now, queued: options.queued, webhook: options.webhook });
    this.fanout = new SubscriptionFanout({
      store: options.store, config: context.config, log: context.log, baseUrl: context.baseUrl, now: context.now, queued: options.queued, intervalMs: options.fanoutIntervalMs,
    });
  }

  start(): void {
    this.fanout.start();
  }

  stop(): Promise<void> {
    return this.fanout.stop();
  }
}
