import type { AlertChannelConfig, ChannelType } from '../../config/index.js';
import type { Channel } from '../types.js';
import { emailChannel } from './email.js';
import { httpChannel } from './http.js';
import type { ChannelOptions } from './options.js';
import { pagerDutyChannel } from './pagerduty.js';
import { slackChannel } from './slack.js';
import { webhookChannel } from './webhook.js';

export type { ChannelOptions } from './options.js';
export { safePost, type PostRequest } from './safe-http.js';
export { checkTargetUrl } from './address-guard.js';
export { verifyWebhookSignature, signWebhook } from './webhook.js';
export { HTTP_TEMPLATE_VARIABLES } from './http.js';
export { STATUS_SUBSCRIBERS_CHANNEL, subscriberUrlProblem, subscriberWebhookChannel, verifySubscriberWebhook, type SubscriberWebhookOptions } from './subscriber-webhook.js';

type Factory = (name: string, config: AlertChannelConfig, options: ChannelOptions) => Channel;

/** One entry per channel type; each lives in its own file. */
const FACTORIES: Record<ChannelType, Factory> = {
  webhook: (name, c, o) => webhookChannel(name, c.webhook!, o),
  email: (name, c, o) => emailChannel(name, c.email!, o),
  slack: (name, c, o) => slackChannel(name, c.slack!, o),
  pagerduty: (name, c, o) => pagerDutyChannel(name, c.pagerduty!, o),
  http: (name, c, o) => httpChannel(name, c.http!, o),
};

export function channelType(config: AlertChannelConfig): ChannelType {
  const types = (Object.keys(FACTORIES) as ChannelType[]).filter((t) => config[t] !== undefined);
  if (types.length !== 1) throw new Error(`an alert channel needs exactly one of ${Object.keys(FACTORIES).join(', ')}; got ${types.length === 0 ? 'none' : types.join(' and ')}`);
  return types[0]!;
}

/** Builds the channel a validated configuration describes; throws only on a configuration the schema would have refused. */
export function createChannel(name: string, config: AlertChannelConfig, options: ChannelOptions = {}): Channel {
  return FACTORIES[channelType(config)](name, config, options);
}
