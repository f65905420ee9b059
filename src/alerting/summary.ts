import type { Registry } from 'prom-client';
import { resolveChannelRef, type AlertingConfig, type BulwarkConfig } from '../config/index.js';
import type { Logger } from '../core/logger.js';
import type { AlertingStore, LastBackupRuns, OutboxInput, Store } from '../store/index.js';
import { fromWallMs, toWallMs } from './oncall.js';
import { readSamples, type Sample } from './sources/registry-read.js';
import { renderTemplate, templateFor } from './templates.js';
import type { Incident, OutgoingMessage } from './types.js';
import { formatDuration, formatTime } from './vars.js';

/**
 * Seed 000's daily summary email: once a day at `daily_summary.at` in its time
 * zone, one `summary` outbox row per channel under the key
 * `summary-<day>.<channel>`, so a restart, a catch-up after downtime or a
 * second pass queues that day's summary once. It covers the last 24 hours of
 * incidents, the incidents open now, each backup policy's newest good backup
 * against its tier's RPO, and the SLO gauges the SLO reporter keeps in the
 * registry. Drills are not built, so it says nothing about them.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MAX_LINES = 20;
const DEFAULT_AT = '08:00';
const DEFAULT_TIME_ZONE = 'UTC';

export interface SummarySchedule {
  at: string;
  timeZone: string;
  channels: string[];
}

/** When and where the summary goes, or null when nothing asks for one. */
export function summarySchedule(alerting: AlertingConfig | undefined): SummarySchedule | null {
  if (!alerting) return null;
  const wanted = alerting.notification_channels.filter((e) => e.dailySummary);
  if (!alerting.daily_summary && wanted.length === 0) return null;
  const named = alerting.daily_summary?.channels ?? wanted.map((e) => resolveChannelRef(alerting.channels, e.channel));
  const channels = [...new Set(named.filter((c): c is string => c !== undefined && alerting.channels[c] !== undefined))];
  return { at: alerting.daily_summary?.at ?? DEFAULT_AT, timeZone: alerting.daily_summary?.time_zone ?? DEFAULT_TIME_ZONE, channels };
}

export interface Slot {
  at: number;
  /** The local date of the slot, YYYY-MM-DD: the summary's name in its key. */
  day: string;
}

/** The latest slot at or before `now`. */
export function lastSlot(now: number, at: string, timeZone: string): Slot {
  const [hours, minutes] = at.split(':').map(Number) as [number, number];
  const wallNow = toWallMs(now, timeZone);
  let wall = Math.floor(wallNow / DAY_MS) * DAY_MS + (hours * 60 + minutes) * 60_000;
  if (wall > wallNow) wall -= DAY_MS;
  return { at: fromWallMs(wall, timeZone), day: new Date(wall).toISOString().slice(0, 10) };
}

export function nextSlotAt(now: number, at: string, timeZone: string): number {
  const last = lastSlot(now, at, timeZone);
  return fromWallMs(toWallMs(last.at, timeZone) + DAY_MS, timeZone);
}

export interface SummaryFacts {
  config: BulwarkConfig;
  now: number;
  /** Incidents, newest first; those opened or resolved in the last 24 h are reported. */
  recent: readonly Incident[];
  open: readonly Incident[];
  backups: readonly LastBackupRuns[];
  /** `bulwark_service_availability_ratio` and `bulwark_error_budget_remaining_ratio` samples. */
  availability: readonly Sample[];
  budget: readonly Sample[];
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function capped(lines: string[]): string[] {
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `  … and ${lines.length - MAX_LINES} more`] : lines;
}

function incidentLine(i: Incident): string {
  const acked = i.acknowledgedAt === null ? '' : `, acknowledged after ${formatDuration(i.acknowledgedAt - i.openedAt)}${i.acknowledgedBy ? ` by ${i.acknowledgedBy}` : ''}`;
  const end = i.resolvedAt === null ? `, still ${i.state}` : `, resolved after ${formatDuration(i.resolvedAt - i.openedAt)}`;
  return `  #${i.id} [${i.severity}] ${i.title}: opened ${formatTime(i.openedAt)}${acked}${end}`;
}

export function incidentSection(facts: SummaryFacts): string[] {
  const since = facts.now - DAY_MS;
  const touched = facts.recent.filter((i) => i.openedAt >= since || (i.resolvedAt !== null && i.resolvedAt >= since));
  const opened = touched.filter((i) => i.openedAt >= since);
  const resolved = touched.filter((i) => i.resolvedAt !== null && i.resolvedAt >= since);
  const lines = [`Incidents in the last 24 hours: ${opened.length} opened, ${resolved.length} resolved`];
  const tta = median(touched.flatMap((i) => (i.acknowledgedAt === null ? [] : [i.acknowledgedAt - i.openedAt])));
  const ttr = median(resolved.map((i) => i.resolvedAt! - i.openedAt));
  if (tta !== null || ttr !== null) {
    lines.push(`  median time to acknowledge: ${tta === null ? '-' : formatDuration(tta)}; to resolve: ${ttr === null ? '-' : formatDuration(ttr)}`);
  }
  lines.push(...capped(touched.map(incidentLine)));
  lines.push('', `Open incidents: ${facts.open.length === 0 ? 'none' : facts.open.length}`);
  lines.push(...capped(facts.open.map((i) => `  #${i.id} [${i.severity}] ${i.state.toUpperCase()} ${i.title}, open for ${formatDuration(facts.now - i.openedAt)}`)));
  return lines;
}

type Policy = NonNullable<BulwarkConfig['backups']>['policies'][string];

function policyRpo(config: BulwarkConfig, policy: Policy): number | null {
  const database = policy.source.postgres ?? policy.source.redis;
  const tier = database === undefined ? undefined : config.databases[database]?.tier;
  return tier === undefined ? null : (config.sla_tiers[tier]?.rpo ?? null);
}

function backupLine(config: BulwarkConfig, name: string, policy: Policy, runs: LastBackupRuns | undefined, now: number): string {
  const failed = runs && !runs.last.ok ? `; last run failed at ${formatTime(runs.last.finishedAt)}: ${runs.last.error ?? 'no error recorded'}` : '';
  const success = runs?.lastSuccess;
  if (!success) return `  ${name}: no successful backup yet${failed}`;
  const age = now - success.finishedAt;
  const rpo = policyRpo(config, policy);
  let verdict = ' (no tier RPO)';
  if (rpo !== null && policy.wal_archiving) verdict = `; WAL archiving carries the tier's ${formatDuration(rpo)} RPO`;
  else if (rpo !== null) verdict = `; tier RPO ${formatDuration(rpo)}: ${age <= rpo ? 'within' : 'EXCEEDED'}`;
  return `  ${name}: last good backup ${formatDuration(age)} ago${verdict}${failed}`;
}

export function backupSection(facts: SummaryFacts): string[] {
  const policies = Object.entries(facts.config.backups?.policies ?? {});
  if (policies.length === 0) return [];
  const runs = (name: string) => facts.backups.find((b) => b.policy === name && b.kind === 'backup');
  return ['', 'Backups', ...policies.map(([name, p]) => backupLine(facts.config, name, p, runs(name), facts.now))];
}

const percent = (ratio: number): string => `${(ratio * 100).toFixed(3)}%`;

/** From the SLO reporter's gauges: nothing when it has measured nothing yet. */
export function sloSection(facts: SummaryFacts): string[] {
  const value = (samples: readonly Sample[], kind: string, name: string, window: string) =>
    samples.find((s) => s.labels.kind === kind && s.labels.name === name && s.labels.window === window)?.value;
  const owners = [
    ...Object.entries(facts.config.services).map(([name, s]) => ({ kind: 'service', name, tier: s.tier })),
    ...Object.entries(facts.config.databases).map(([name, d]) => ({ kind: 'database', name, tier: d.tier })),
  ];
  const lines = owners.flatMap(({ kind, name, tier }) => {
    const day = value(facts.availability, kind, name, '24h');
    const month = value(facts.availability, kind, name, '30d');
    if (day === undefined && month === undefined) return [];
    const target = tier === undefined ? undefined : facts.config.sla_tiers[tier]?.availability;
    const budget = value(facts.budget, kind, name, '30d');
    const promise = tier === undefined ? 'no tier' : `${tier} ${target === undefined ? '' : percent(target)}`.trim();
    const show = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : percent(v));
    return [`  ${name} (${promise}): 24h ${show(day)}, 30d ${show(month)}, error budget left (30d) ${budget === undefined || !Number.isFinite(budget) ? '-' : `${(budget * 100).toFixed(1)}%`}`];
  });
  return lines.length === 0 ? [] : ['', 'Availability against the tiers', ...lines];
}

export function summaryText(facts: SummaryFacts): string {
  return [...incidentSection(facts), ...backupSection(facts), ...sloSection(facts)].join('\n');
}

export function summaryRows(facts: SummaryFacts, slot: Slot, channels: readonly string[]): OutboxInput[] {
  const alerting = facts.config.alerting!;
  const title = `Daily summary for ${facts.config.name ?? 'Bulwark'}, ${slot.day}`;
  const summary = summaryText(facts);
  const template = templateFor('summary', facts.config);
  return channels.map((channel) => {
    const rendered = renderTemplate(template, { title, summary }, { html: alerting.channels[channel]?.email !== undefined });
    const key = `summary-${slot.day}.${channel}`;
    const message: OutgoingMessage = {
      kind: 'summary', incidentId: null, dedupKey: `summary-${slot.day}`, severity: 'info', subject: rendered.subject, text: rendered.text,
      ...(rendered.html !== undefined ? { html: rendered.html } : {}), links: {}, idempotencyKey: key, fields: { day: slot.day },
    };
    return { idempotencyKey: key, channel, incidentId: null, kind: 'summary', message, createdAt: facts.now, deadlineAt: facts.now + (alerting.channels[channel]?.deadline ?? HOUR_MS) };
  });
}

export interface DailySummaryOptions {
  config: () => BulwarkConfig;
  store: Pick<Store, 'lastBackupRuns'> & { alerting: Pick<AlertingStore, 'listIncidents' | 'openIncidents' | 'enqueue'> };
  registry: Pick<Registry, 'getSingleMetric'>;
  log: Logger;
  now: () => number;
  /** Rows were queued: the sender should look. */
  queued: () => void;
}

const RECENT_LIMIT = 1000;

/**
 * The timer. It wakes at the next slot or within the hour, whichever is
 * sooner, and reads the configuration each time, so a reload needs no hook.
 * At start it queues the latest slot's summary if that day's was never
 * queued (the daemon was down at the time); the key makes that a no-op otherwise.
 */
export class DailySummary {
  private timer: NodeJS.Timeout | null = null;
  private queuedDay: string | null = null;
  private stopped = false;

  constructor(private readonly options: DailySummaryOptions) {}

  /** Like the sources: idle without an `alerting` section at start. */
  start(): void {
    this.stopped = false;
    if (this.options.config().alerting) void this.wake();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Queues the latest slot's summary unless this process already did; how many rows were new. */
  async queueDue(): Promise<number> {
    const config = this.options.config();
    const schedule = summarySchedule(config.alerting);
    if (!schedule || schedule.channels.length === 0) return 0;
    const now = this.options.now();
    const slot = lastSlot(now, schedule.at, schedule.timeZone);
    if (this.queuedDay === slot.day) return 0;
    const facts = await this.facts(config, now);
    const added = await this.options.store.alerting.enqueue(summaryRows(facts, slot, schedule.channels));
    this.queuedDay = slot.day;
    if (added > 0) {
      this.options.log.info({ day: slot.day, channels: schedule.channels }, 'daily summary queued');
      this.options.queued();
    }
    return added;
  }

  private async facts(config: BulwarkConfig, now: number): Promise<SummaryFacts> {
    const { store, registry } = this.options;
    const [recent, open, backups, availability, budget] = await Promise.all([
      store.alerting.listIncidents({ limit: RECENT_LIMIT }),
      store.alerting.openIncidents(),
      store.lastBackupRuns(),
      readSamples(registry, 'bulwark_service_availability_ratio'),
      readSamples(registry, 'bulwark_error_budget_remaining_ratio'),
    ]);
    return { config, now, recent, open, backups, availability, budget };
  }

  private async wake(): Promise<void> {
    this.timer = null;
    await this.queueDue().catch((err: unknown) => this.options.log.error({ err: (err as Error).message }, 'daily summary not queued; trying again within the hour'));
    if (this.stopped) return;
    const schedule = summarySchedule(this.options.config().alerting);
    const now = this.options.now();
    const next = schedule ? nextSlotAt(now, schedule.at, schedule.timeZone) : now + HOUR_MS;
    this.timer = setTimeout(() => void this.wake(), Math.max(0, Math.min(next - now, HOUR_MS)));
    this.timer.unref();
  }
}
