import { z } from 'zod';
import { duration, exactlyOne, httpUrl, name, port, positiveInt, size } from './fields.js';

/**
 * `alerting:` and `communication_templates:`. Two spellings are accepted where
 * the seeds and the design differ: escalation levels as seed 000 writes them
 * (`- level_1: on_call_engineer` / `timeout: 5 minutes`) or as `{ notify, after }`,
 * and a template's text as `body:` or the seed's `template:`. Both normalise to
 * one shape, so nothing downstream knows which was written.
 */

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];
const severity = z.enum(SEVERITIES, { message: 'expected a severity: critical, warning or info' });

const emailAddress = () => z.string().email({ message: 'expected an email address such as alerts@example.com' });

const webhook = z.strictObject({
  url: httpUrl(),
  headers: z.record(z.string(), z.string()).default({}),
  /** HMAC-SHA256 key: the body is signed with a timestamp (`X-Bulwark-Signature`, `X-Bulwark-Timestamp`). */
  secret: z.string().optional(),
});

const smtp = z.strictObject({
  host: z.string().min(1),
  port: port().default(587),
  user: z.string().optional(),
  password: z.string().optional(),
  from: emailAddress(),
  /** STARTTLS is required unless turned off (a local relay); `tls: true` is implicit TLS (port 465). */
  starttls: z.boolean().default(true),
  tls: z.boolean().default(false),
  /** PEM bundle to verify the server against, instead of the system's. */
  ca_file: z.string().optional(),
});

const email = z.strictObject({ smtp, to: z.array(emailAddress()).min(1) });

const pagerduty = z.strictObject({
  routing_key: z.string().min(1),
  /** The Events API v2 endpoint; change it only for a proxy or a test receiver. */
  url: httpUrl().default('https://events.pagerduty.com/v2/enqueue'),
});

/** SMS or phone through a provider's HTTP API: the body is a template over the message (`{{to}}`, `{{text}}`, `{{subject}}`). */
const http = z.strictObject({
  url: httpUrl(),
  method: z.enum(['POST', 'PUT']).default('POST'),
  headers: z.record(z.string(), z.string()).default({}),
  content_type: z.string().default('application/json'),
  body: z.string().min(1),
  to: z.array(z.string().min(1)).default([]),
});

const channel = z
  .strictObject({
    webhook: webhook.optional(),
    email: email.optional(),
    slack: z.strictObject({ webhook_url: httpUrl() }).optional(),
    pagerduty: pagerduty.optional(),
    http: http.optional(),
    /** Messages per minute this channel may send; the rest wait in the outbox. */
    rate_limit: positiveInt().default(60),
    /** How long one message may keep being retried before it is given up as dead. */
    deadline: duration().default(3_600_000),
  })
  .superRefine(exactlyOne(['webhook', 'email', 'slack', 'pagerduty', 'http'], 'an alert channel'));

export const CHANNEL_TYPES = ['webhook', 'email', 'slack', 'pagerduty', 'http'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** A `notification_channels` key: a channel's name, or the type of exactly one channel. */
export function resolveChannelRef(channels: Record<string, Partial<Record<ChannelType, unknown>>>, ref: string): string | undefined {
  if (channels[ref]) return ref;
  const ofType = Object.entries(channels).filter(([, c]) => c[ref as ChannelType] !== undefined);
  return ofType.length === 1 ? ofType[0]![0] : undefined;
}

const person = z.strictObject({
  email: emailAddress().optional(),
  phone: z.string().regex(/^\+[1-9]\d{6,14}$/, { message: 'expected a phone number in E.164 form such as +4915112345678' }).optional(),
  /** The channels that reach this person; an email channel writes to `email`, an http (SMS) channel to `phone`. */
  channels: z.array(name()).min(1),
});

const timeZone = () =>
  z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, { message: 'expected an IANA time zone such as Europe/Berlin or UTC' });

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const handoff = z.string().regex(new RegExp(`^((${WEEKDAYS.join('|')}) )?([01]\\d|2[0-3]):[0-5]\\d$`), {
  message: 'expected a hand-off time such as "09:00" or "monday 09:00"',
});

const schedule = z.strictObject({
  time_zone: timeZone().default('UTC'),
  /** Who is on call, in order; the rotation moves to the next at each hand-off. */
  people: z.array(name()).min(1),
  /** Length of one shift: `1d` or `1w` usually. */
  rotation: duration().default(7 * 86_400_000),
  /** When a shift starts, in the schedule's time zone. */
  handoff: handoff.default('monday 09:00'),
  /** The shift of `people[0]` starts at the first hand-off at or after this instant. */
  start: z.string().datetime({ offset: true }).default('2024-01-01T00:00:00Z'),
  overrides: z.array(z.strictObject({
    person: name(),
    from: z.string().datetime({ offset: true }),
    until: z.string().datetime({ offset: true }),
  })).default([]),
});

const targets = z.union([name(), z.array(name()).min(1)]).transform((t) => (Array.isArray(t) ? t : [t]));

/** `{ notify: oncall, after: 5m }`: notified `after` from the start of the cycle. */
const designLevel = z.strictObject({ notify: targets, after: duration().default(0) });
/** Seed 000: `{ level_1: on_call_engineer, timeout: 5 minutes }`: notified when the level starts; the next level starts after `timeout`. */
const seedLevel = z.record(z.string(), z.unknown()).transform((value, ctx) => {
  const levelKeys = Object.keys(value).filter((k) => /^level_\d+$/.test(k));
  const others = Object.keys(value).filter((k) => !/^level_\d+$/.test(k) && k !== 'timeout');
  if (levelKeys.length !== 1 || others.length > 0) {
    ctx.addIssue({ code: 'custom', message: 'expected an escalation level such as { level_1: on_call_engineer, timeout: 5 minutes } or { notify: oncall, after: 5m }' });
    return z.NEVER;
  }
  const key = levelKeys[0]!;
  const parsedTargets = targets.safeParse(value[key]);
  if (!parsedTargets.success) {
    ctx.addIssue({ code: 'custom', path: [key], message: 'expected a channel, person or schedule name, or a list of them' });
    return z.NEVER;
  }
  const parsedTimeout = duration().optional().safeParse(value.timeout);
  if (!parsedTimeout.success) {
    ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'expected a duration such as 5 minutes, 15m or 2 hours' });
    return z.NEVER;
  }
  return { level: Number(key.slice('level_'.length)), notify: parsedTargets.data, timeout: parsedTimeout.data };
});

const level = z.union([designLevel, seedLevel]);

export interface EscalationLevel {
  /** Channel, person or schedule names; a name that is none of these is a role, reached through the severity's `notification_channels`. */
  targets: string[];
  /** When this level is notified, counted from the start of each cycle. */
  atMs: number;
}

export interface EscalationPolicy {
  levels: EscalationLevel[];
  /** One cycle's length: the next cycle (a repeat) starts after it. */
  cycleMs: number;
  /** Cycles after the first while nobody acknowledges. */
  repeat: number;
}

const DEFAULT_LAST_LEVEL_MS = 30 * 60_000;

function normalisePolicy(levels: Array<z.output<typeof level>>, repeat: number, repeatAfter: number | undefined, ctx: z.RefinementCtx): EscalationPolicy {
  const out: EscalationLevel[] = [];
  let at = 0;
  let lastTimeout: number | undefined;
  for (const [i, l] of levels.entries()) {
    if ('after' in l) {
      if (i > 0 && l.after < out[i - 1]!.atMs) {
        ctx.addIssue({ code: 'custom', path: [i, 'after'], message: 'expected levels in order: each `after` at least the previous level\'s' });
      }
      out.push({ targets: l.notify, atMs: l.after });
      lastTimeout = undefined;
    } else {
      if (l.level !== i + 1) ctx.addIssue({ code: 'custom', path: [i], message: `expected level_${i + 1} here (levels are numbered in order from level_1)` });
      out.push({ targets: l.notify, atMs: at });
      at += l.timeout ?? DEFAULT_LAST_LEVEL_MS;
      lastTimeout = l.timeout;
    }
    if ('after' in l) at = l.after;
  }
  const last = out[out.length - 1]!;
  const cycleMs = Math.max(lastTimeout !== undefined ? at : last.atMs + (repeatAfter ?? DEFAULT_LAST_LEVEL_MS), 1_000);
  return { levels: out, cycleMs, repeat };
}

const PURPOSES = /\b(critical|warning|info|daily summar(?:y|ies))\b/gi;

/**
 * Seed 000's `notification_channels: [ { pagerduty: "critical alerts" }, … ]`: a channel
 * (by name, or the only channel of that type) and, in words, what it carries.
 */
const notificationChannel = z.record(z.string(), z.string()).transform((value, ctx) => {
  const entries = Object.entries(value);
  if (entries.length !== 1) {
    ctx.addIssue({ code: 'custom', message: 'expected one entry such as { pagerduty: "critical alerts" }' });
    return z.NEVER;
  }
  const [channelRef, text] = entries[0]!;
  const words = [...text.matchAll(PURPOSES)].map((m) => m[1]!.toLowerCase());
  if (words.length === 0) {
    ctx.addIssue({ code: 'custom', path: [channelRef], message: 'expected what the channel carries: critical, warning or info alerts, or daily summary reports' });
    return z.NEVER;
  }
  return {
    channel: channelRef,
    severities: SEVERITIES.filter((s) => words.includes(s)),
    dailySummary: words.some((w) => w.startsWith('daily summar')),
  };
});

const CONDITIONS = [
  'service_down', 'database_down', 'endpoint_down', 'zone_down', 'region_down', 'error_budget_burn',
  'backup_failed', 'backup_stale', 'verify_failed', 'wal_archive_lag', 'replication_lag', 'failover',
  'no_sync_standby', 'certificate_expiring', 'agent_silent', 'drill_failed', 'metric',
] as const;
export type AlertCondition = (typeof CONDITIONS)[number];

const rule = z.strictObject({
  when: z.enum(CONDITIONS, { message: `expected a condition: ${CONDITIONS.join(', ')}` }),
  /** The condition must hold this long before the alert fires (Alertmanager's `for`). */
  for: duration().default(0),
  severity: severity.default('warning'),
  /** Escalation policy; by default the one named like the severity. */
  escalation: name().optional(),
  services: z.array(name()).optional(),
  databases: z.array(name()).optional(),
  /** `metric`: the Prometheus metric (Bulwark's own registry) and the labels it must have. */
  metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, { message: 'expected a Prometheus metric name' }).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  above: z.number().optional(),
  below: z.number().optional(),
  /** `replication_lag` and `wal_archive_lag`: bytes or seconds behind (`16MB`, `30s`). */
  max_lag: z.union([size(), duration()]).optional(),
  /** `certificate_expiring`: warn this long before the end. */
  within: duration().optional(),
  /** Templates for the notifications this rule sends: trigger, and resolution. */
  template: name().optional(),
  resolution_template: name().optional(),
});
export type AlertRuleConfig = z.output<typeof rule>;

const flap = z.strictObject({
  /** State changes of one alert within `window` that make it flapping. */
  changes: positiveInt().default(4),
  window: duration().default(10 * 60_000),
  /** While flapping, the condition must stay clear this long before the incident resolves. */
  hold: duration().default(5 * 60_000),
});

const dailySummary = z.strictObject({
  at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected a time such as "08:00"' }).default('08:00'),
  time_zone: timeZone().default('UTC'),
  channels: z.array(name()).optional(),
});

export const alertingSchema = z
  .strictObject({
    channels: z.record(name(), channel).default({}),
    people: z.record(name(), person).default({}),
    schedules: z.record(name(), schedule).default({}),
    rules: z.record(name(), rule).optional(),
    escalation_policies: z.record(name(), z.union([
      z.array(level).min(1),
      z.strictObject({ levels: z.array(level).min(1), repeat: z.number().int().min(0).max(100).default(0) }),
    ])).default({}),
    notification_channels: z.array(notificationChannel).default([]),
    /** Which policy each severity uses when a rule names none (default: the policy named like the severity). */
    severity_policies: z.partialRecord(severity, name()).default({}),
    /** After the last `{notify, after}` level: how long until the policy repeats (seed-style levels use their `timeout`). */
    repeat_after: duration().optional(),
    /** The condition must stay clear this long before its incident resolves (flapping protection). */
    resolve_after: duration().default(30_000),
    flapping: flap.prefault({}),
    /** Where links in notifications point (acknowledge, resolve); default: the admin API's address. */
    public_url: httpUrl().optional(),
    /** How long a signed acknowledge or resolve link stays valid. */
    link_ttl: duration().default(24 * 3_600_000),
    daily_summary: dailySummary.optional(),
    /** Reminders to the incident owner when no update was posted for this long (crisis communication's "next update"). */
    update_interval: duration().default(30 * 60_000),
    /** The post-incident review reminder after resolution (seed 000: within 48 hours). */
    review_within: duration().default(48 * 3_600_000),
  })
  .transform((a, ctx) => ({
    ...a,
    escalation_policies: Object.fromEntries(Object.entries(a.escalation_policies).map(([policyName, p]) => {
      const levels = Array.isArray(p) ? p : p.levels;
      const repeat = Array.isArray(p) ? 0 : p.repeat;
      return [policyName, normalisePolicy(levels, repeat, a.repeat_after, ctx)];
    })) as Record<string, EscalationPolicy>,
  }));

export type AlertingConfig = z.output<typeof alertingSchema>;
export type AlertChannelConfig = AlertingConfig['channels'][string];
export type PersonConfig = AlertingConfig['people'][string];
export type OnCallScheduleConfig = AlertingConfig['schedules'][string];

/** A template's text: `body:` or, as seed 000 writes it, `template:`. */
export const templatesSchema = z.record(
  name(),
  z.strictObject({
    subject: z.string().min(1),
    body: z.string().min(1).optional(),
    template: z.string().min(1).optional(),
    channels: z.array(name()).optional(),
  })
    .superRefine(exactlyOne(['body', 'template'], 'a communication template'))
    .transform(({ template, body, ...rest }) => ({ ...rest, body: (body ?? template)! })),
);
export type CommunicationTemplate = z.output<typeof templatesSchema>[string];
