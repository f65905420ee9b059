import type { Channel, NotificationKind, OutgoingMessage } from '../types.js';
import type { ChannelOptions, PagerDutyConfig } from './options.js';
import { safePost } from './safe-http.js';

const SUMMARY_LIMIT = 1024;
type EventAction = 'trigger' | 'acknowledge' | 'resolve';

/**
 * Kinds PagerDuty does not carry: a review reminder comes after resolution and
 * a daily summary has no incident, so triggering either would open a page.
 */
const NOT_CARRIED: ReadonlySet<NotificationKind> = new Set(['review_due', 'summary']);

function eventAction(kind: NotificationKind): EventAction {
  if (kind === 'acknowledge' || kind === 'resolve') return kind;
  return 'trigger';
}

function summary(subject: string): string {
  return subject.length <= SUMMARY_LIMIT ? subject : `${subject.slice(0, SUMMARY_LIMIT - 1)}…`;
}

/** Events API v2: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ */
export function pagerDutyEvent(routingKey: string, message: OutgoingMessage): Record<string, unknown> {
  const action = eventAction(message.kind);
  const base = { routing_key: routingKey, event_action: action, dedup_key: message.dedupKey };
  if (action !== 'trigger') return base;
  const links = (['acknowledge', 'resolve', 'view'] as const)
    .filter((k) => message.links[k])
    .map((k) => ({ href: message.links[k]!, text: k === 'view' ? 'View in Bulwark' : `${k[0]!.toUpperCase()}${k.slice(1)} in Bulwark` }));
  return {
    ...base,
    payload: { summary: summary(message.subject), source: 'bulwark', severity: message.severity, custom_details: message.fields },
    links,
  };
}

export function pagerDutyChannel(name: string, config: PagerDutyConfig, options: ChannelOptions = {}): Channel {
  return {
    name,
    type: 'pagerduty',
    async send(message, signal) {
      if (NOT_CARRIED.has(message.kind)) return { ok: true, detail: `not sent: PagerDuty carries incidents, not ${message.kind} notifications` };
      const body = JSON.stringify(pagerDutyEvent(config.routing_key, message));
      return safePost({ url: config.url, body, headers: { 'content-type': 'application/json' }, signal, timeoutMs: options.timeoutMs, secrets: [config.routing_key] });
    },
  };
}
