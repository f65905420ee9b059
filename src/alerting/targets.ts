import { resolveChannelRef, type AlertingConfig, type AlertSeverity } from '../config/index.js';

/**
 * Who an escalation level reaches, at a given instant: a level names channels,
 * people, on-call schedules, or roles (seed 000's `on_call_engineer`) that are
 * reached through the severity's `notification_channels`.
 */

export interface Delivery {
  channel: string;
  /** A person's email address or phone number, for channels that address someone. */
  to?: string[];
  /** Whom this reaches, for the message and the timeline: a channel, person or role name. */
  recipient: string;
  /** How the level's target led here: `channel`, `person`, `schedule:<name>`, `role:<name>`. */
  via: string;
}

export type OnCallLookup = (schedule: string, at: number) => string | undefined;

export interface ResolvedTargets {
  deliveries: Delivery[];
  /** Targets that reach nobody (a person without an address for the channel, an empty schedule). */
  unreachable: string[];
}

export function resolveTargets(targets: readonly string[], severity: AlertSeverity, alerting: AlertingConfig, at: number, onCall: OnCallLookup): ResolvedTargets {
  const out: ResolvedTargets = { deliveries: [], unreachable: [] };
  for (const target of targets) {
    const found = resolveOne(target, severity, alerting, at, onCall);
    if (found.length === 0) out.unreachable.push(target);
    out.deliveries.push(...found);
  }
  return { ...out, deliveries: dedupe(out.deliveries) };
}

function resolveOne(target: string, severity: AlertSeverity, alerting: AlertingConfig, at: number, onCall: OnCallLookup): Delivery[] {
  if (alerting.channels[target]) return [{ channel: target, recipient: target, via: 'channel' }];
  if (alerting.people[target]) return personDeliveries(target, alerting, 'person');
  if (alerting.schedules[target]) {
    const person = onCall(target, at);
    return person ? personDeliveries(person, alerting, `schedule:${target}`) : [];
  }
  return roleChannels(severity, alerting).map((channel) => ({ channel, recipient: target, via: `role:${target}` }));
}

function personDeliveries(name: string, alerting: AlertingConfig, via: string): Delivery[] {
  const person = alerting.people[name];
  if (!person) return [];
  return person.channels.flatMap((channel): Delivery[] => {
    const config = alerting.channels[channel];
    if (!config) return [];
    if (config.email) return person.email ? [{ channel, to: [person.email], recipient: name, via }] : [];
    if (config.http) return person.phone ? [{ channel, to: [person.phone], recipient: name, via }] : [];
    return [{ channel, recipient: name, via }];
  });
}

/** The channels seed 000's `notification_channels` gives a severity. */
export function roleChannels(severity: AlertSeverity, alerting: AlertingConfig): string[] {
  return alerting.notification_channels
    .filter((entry) => entry.severities.includes(severity))
    .map((entry) => resolveChannelRef(alerting.channels, entry.channel))
    .filter((c): c is string => c !== undefined);
}

function dedupe(deliveries: Delivery[]): Delivery[] {
  const seen = new Set<string>();
  return deliveries.filter((d) => {
    const key = `${d.channel}|${(d.to ?? []).join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
