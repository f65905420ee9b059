import { maintenanceIntervals } from '../slo/index.js';
import type { SilenceRecord } from '../store/index.js';
import type { AlertContext } from './context.js';
import type { ResolvedRule } from './default-rules.js';
import { addAlert, markFlapping, openIncident, removeAlert } from './incidents.js';
import type { Incident, Signal } from './types.js';

/**
 * From signals to incidents. An alert is one (rule, subject). It becomes
 * active once it has fired for the rule's `for`; an active alert joins the
 * open incident of its group (rule + group label) or opens one, unless a
 * silence, a maintenance window or a broader alert (inhibition) holds it back,
 * which is written to the audit log. When its last alert clears, an incident
 * resolves after `resolve_after` (longer while it flaps).
 */

interface AlertState {
  signal: Signal;
  firingSince: number | null;
  active: boolean;
  /** Why it opened no incident, while it is held back. */
  held: 'silence' | 'maintenance' | 'inhibited' | null;
  incidentKey: string | null;
  timer: NodeJS.Timeout | null;
}

/** (inhibitor condition, inhibited condition, the label both must share). */
const INHIBITIONS: ReadonlyArray<[string, string, string]> = [
  ['region_down', 'zone_down', 'region'],
  ['region_down', 'endpoint_down', 'region'],
  ['zone_down', 'endpoint_down', 'zone'],
  ['service_down', 'endpoint_down', 'service'],
  ['database_down', 'replication_lag', 'database'],
  ['database_down', 'no_sync_standby', 'database'],
];

function addTo<T>(index: Map<string, Set<T>>, key: string, item: T): string {
  const set = index.get(key) ?? new Set<T>();
  index.set(key, set.add(item));
  return key;
}

const alertId = (signal: Pick<Signal, 'rule' | 'subject'>): string => `${signal.rule}|${signal.subject}`;

export class AlertEngine {
  private readonly alerts = new Map<string, AlertState>();
  private readonly changes = new Map<string, number[]>();
  private silences: SilenceRecord[] = [];
  /**
   * Alerts that can inhibit others, by `kind|label|value`: `inhibitorOf` looks
   * them up rather than scanning every alert, which cost O(alerts) a signal and
   * half the daemon's CPU at 10,000 endpoints failing (bench/alerting.ts).
   */
  private readonly inhibitors = new Map<string, Set<AlertState>>();
  /** The other side: alerts an inhibitor can cover, by `kind|label|value`, for `inhibitOpen` and `releaseInhibited`. */
  private readonly coverable = new Map<string, Set<AlertState>>();
  private readonly indexKeys = new Map<AlertState, string[]>();

  constructor(private readonly ctx: AlertContext) {}

  /** Reloads the silences, then activates what should be active by now (see `activatePending`). */
  async refreshSilences(): Promise<void> {
    this.silences = await this.ctx.store.listSilences(this.ctx.now());
    await this.ctx.serial(() => this.activatePending());
  }

  /** Feed signals; incidents change in order, one at a time. */
  handle(signals: readonly Signal[]): Promise<void> {
    return this.ctx.serial(async () => {
      for (const signal of signals) {
        await this.ctx.breathe();
        await this.one(signal).catch((err: unknown) => this.logFailure(err, signal));
      }
    });
  }

  private logFailure(err: unknown, signal: Signal): void {
    this.ctx.log.error({ err: (err as Error).message, rule: signal.rule, subject: signal.subject }, 'alert signal not processed');
  }

  stop(): void {
    for (const alert of this.alerts.values()) if (alert.timer) clearTimeout(alert.timer);
  }

  /** An alert of an open incident that no source reported after a restart: it cleared while nobody watched. */
  async clearStale(incident: Incident, subject: string): Promise<void> {
    await removeAlert(this.ctx, incident, subject, 'not firing since the daemon restarted');
  }

  /** After a restart: alerts of open incidents that no source has reported firing since cleared while nobody watched. */
  async reconcile(): Promise<void> {
    const firing = new Set(this.firing().map(alertId));
    await this.ctx.serial(async () => {
      for (const incident of [...this.ctx.open.values()]) {
        for (const subject of incident.alerts) {
          if (firing.has(`${incident.rule}|${subject}`)) continue;
          const current = this.ctx.open.get(incident.id);
          if (current) await this.clearStale(current, subject);
        }
      }
    });
  }

  firing(): Signal[] {
    return [...this.alerts.values()].filter((a) => a.firingSince !== null).map((a) => a.signal);
  }

  private async one(signal: Signal): Promise<void> {
    const rule = this.ctx.rules.get(signal.rule);
    const id = alertId(signal);
    const known = this.alerts.get(id);
    if (!rule) {
      // A rule removed by a reload: its sources clear its alerts, and their incidents must resolve.
      if (!signal.firing && known && known.firingSince !== null) await this.clear(known);
      return;
    }
    const state = known ?? { signal, firingSince: null, active: false, held: null, incidentKey: null, timer: null };
    this.alerts.set(id, state);
    state.signal = signal;
    this.indexAlert(state);
    if (signal.firing && state.firingSince === null) {
      state.firingSince = signal.at;
      const wait = signal.at + rule.forMs - this.ctx.now();
      if (wait > 0 && !signal.oneShot) {
        state.timer = setTimeout(() => void this.ctx.serial(() => this.activate(state)).catch((err: unknown) => this.logFailure(err, state.signal)), wait);
        state.timer.unref();
      } else await this.activate(state);
    } else if (!signal.firing && state.firingSince !== null) {
      await this.clear(state);
    }
    if (signal.oneShot && state.firingSince !== null) await this.clear(state);
  }

  private async activate(state: AlertState): Promise<void> {
    state.timer = null;
    if (state.firingSince === null || state.active) return;
    state.active = true;
    const held = this.holdReason(state.signal);
    if (held) return this.hold(state, held);
    state.held = null;
    // Not active until its incident is written: a failed write (the store away) is tried again by `activatePending`.
    await this.joinIncident(state).catch((err: unknown) => {
      state.active = false;
      throw err;
    });
  }

  private async joinIncident(state: AlertState): Promise<void> {
    const rule = this.ctx.rules.get(state.signal.rule)!;
    const group = rule.groupBy ? state.signal.labels[rule.groupBy] : undefined;
    const key = `${rule.name}:${group ?? state.signal.subject}`;
    state.incidentKey = key;
    const flaps = this.countChange(alertId(state.signal));
    const existing = this.ctx.openByKey(key);
    const incident = existing
      ? await addAlert(this.ctx, existing, state.signal)
      : await openIncident(this.ctx, { key, rule: rule.name, title: group ? `${rule.when.replace(/_/g, ' ')}: ${rule.groupBy} ${group}` : state.signal.summary, labels: this.incidentLabels(state.signal, rule, group), signal: state.signal });
    if (flaps >= this.ctx.alerting.flapping.changes) await markFlapping(this.ctx, incident, flaps);
    await this.inhibitOpen(state.signal);
  }

  private async clear(state: AlertState): Promise<void> {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    state.firingSince = null;
    const wasActive = state.active;
    state.active = false;
    if (state.held) {
      state.held = null;
      await this.releaseInhibited(state.signal);
      return;
    }
    if (!wasActive || !state.incidentKey) return;
    this.countChange(alertId(state.signal));
    const incident = this.ctx.openByKey(state.incidentKey);
    if (incident) await removeAlert(this.ctx, incident, state.signal.subject, state.signal.oneShot ? 'one-shot event' : 'condition cleared');
    await this.releaseInhibited(state.signal);
  }

  private incidentLabels(signal: Signal, rule: ResolvedRule, group: string | undefined): Record<string, string> {
    const { groupBy, subjects } = rule;
    if (!groupBy || group === undefined) return signal.labels;
    // A grouped incident keeps only what all its alerts share: the group, a zone's region, and the owner when the rule is about one.
    const oneOwner = subjects.services.length + subjects.databases.length === 1;
    const shared = ['service', 'database', 'zone', 'region', 'tier'].filter((l) => l === groupBy || (groupBy === 'zone' && l === 'region') || (oneOwner && ['service', 'database', 'tier'].includes(l)));
    return Object.fromEntries(shared.filter((l) => signal.labels[l] !== undefined).map((l) => [l, signal.labels[l]!]));
  }

  /** State changes of one alert within the flapping window, this one included. */
  private countChange(key: string): number {
    const now = this.ctx.now();
    const recent = (this.changes.get(key) ?? []).filter((t) => t > now - this.ctx.alerting.flapping.window);
    recent.push(now);
    this.changes.set(key, recent);
    return recent.length;
  }

  private holdReason(signal: Signal): AlertState['held'] {
    if (this.silenceFor(signal)) return 'silence';
    if (this.inMaintenance(signal)) return 'maintenance';
    if (this.inhibitorOf(signal)) return 'inhibited';
    return null;
  }

  private silenceFor(signal: Signal): SilenceRecord | undefined {
    const now = this.ctx.now();
    const labels: Record<string, string> = { ...signal.labels, rule: signal.rule, subject: signal.subject };
    return this.silences.find((s) => s.startsAt <= now && s.endsAt > now && s.expiredAt === null && Object.entries(s.matchers).every(([k, v]) => labels[k] === v));
  }

  private inMaintenance(signal: Signal): string | undefined {
    const component = signal.labels.service ?? signal.labels.database;
    if (!component) return undefined;
    const now = this.ctx.now();
    return maintenanceIntervals(this.ctx.config.maintenance_windows, { start: now, end: now + 1 }, component)[0]?.name;
  }

  /** Files the alert under what it can inhibit (`inhibitors`) and under what can inhibit it (`coverable`). */
  private indexAlert(state: AlertState): void {
    for (const key of this.indexKeys.get(state) ?? []) {
      this.inhibitors.get(key)?.delete(state);
      this.coverable.get(key)?.delete(state);
    }
    const when = this.ctx.rules.get(state.signal.rule)?.when;
    const { labels } = state.signal;
    const keys: string[] = [];
    for (const [inhibiting, inhibited, label] of INHIBITIONS) {
      if (labels[label] === undefined) continue;
      if (inhibiting === when) keys.push(addTo(this.inhibitors, `${inhibiting}|${label}|${labels[label]}`, state));
      if (inhibited === when) keys.push(addTo(this.coverable, `${inhibited}|${label}|${labels[label]}`, state));
    }
    this.indexKeys.set(state, keys);
  }

  /** Alerts `inhibitor` may cover, from the index; `covers` still decides (a reload may have changed a rule). */
  private *coveredBy(inhibitor: Signal): Generator<AlertState> {
    const by = this.ctx.rules.get(inhibitor.rule)?.when;
    for (const [inhibiting, inhibited, label] of INHIBITIONS) {
      const value = inhibitor.labels[label];
      if (inhibiting !== by || value === undefined) continue;
      // A copy: what is done with each may re-file others before the loop moves on.
      for (const state of [...(this.coverable.get(`${inhibited}|${label}|${value}`) ?? [])]) if (this.covers(inhibitor, state.signal)) yield state;
    }
  }

  private inhibitorOf(signal: Signal): Signal | undefined {
    const when = this.ctx.rules.get(signal.rule)?.when;
    for (const [inhibitor, inhibited, label] of INHIBITIONS) {
      if (inhibited !== when || signal.labels[label] === undefined) continue;
      for (const other of this.inhibitors.get(`${inhibitor}|${label}|${signal.labels[label]}`) ?? []) {
        // An alert held by a broader one still inhibits narrower ones (as in Alertmanager): released in any order, a chain stays quiet.
        if (!other.active || (other.held !== null && other.held !== 'inhibited')) continue;
        // Checked again: a reload may have changed what the indexed alert's rule watches.
        if (this.ctx.rules.get(other.signal.rule)?.when === inhibitor && other.signal.labels[label] === signal.labels[label]) return other.signal;
      }
    }
    return undefined;
  }

  private async hold(state: AlertState, reason: NonNullable<AlertState['held']>): Promise<void> {
    state.held = reason;
    this.ctx.metrics.suppressed.inc({ reason });
    const detail = reason === 'silence' ? { silence: this.silenceFor(state.signal)?.id } : reason === 'maintenance' ? { window: this.inMaintenance(state.signal) } : { by: this.inhibitorOf(state.signal)?.subject };
    await this.ctx.events.appendEvent({ subsystem: 'alerting', kind: `alert.${reason === 'inhibited' ? 'inhibited' : reason === 'silence' ? 'silenced' : 'in_maintenance'}`, subject: state.signal.subject, data: { rule: state.signal.rule, summary: state.signal.summary, ...detail } });
  }

  /** A broader alert became active: alerts it covers leave their incidents (which then resolve) and are held. */
  /** Whether `inhibitor` is the broader alert of `signal` (region over zone, zone or service over endpoint, …). */
  private covers(inhibitor: Signal, signal: Signal): boolean {
    const by = this.ctx.rules.get(inhibitor.rule)?.when;
    const when = this.ctx.rules.get(signal.rule)?.when;
    return INHIBITIONS.some(([inhibiting, inhibited, label]) => inhibiting === by && inhibited === when && signal.labels[label] !== undefined && signal.labels[label] === inhibitor.labels[label]);
  }

  // Only what the new alert covers is looked at, through the index: scanning every alert made each service_down activation O(alerts) (bench/alerting-engine.ts).
  private async inhibitOpen(inhibitor: Signal): Promise<void> {
    for (const state of this.coveredBy(inhibitor)) {
      if (!state.active || state.held || state.signal === inhibitor) continue;
      const incident = state.incidentKey ? this.ctx.openByKey(state.incidentKey) : undefined;
      await this.hold(state, 'inhibited');
      if (incident) await removeAlert(this.ctx, incident, state.signal.subject, `inhibited by ${inhibitor.subject}`);
    }
  }

  /**
   * Alerts that still fire and should have an incident by now: those a silence
   * or maintenance window held that no longer holds them (it expired or ended),
   * and those whose incident could not be written (the store was away).
   */
  private async activatePending(): Promise<void> {
    for (const state of this.alerts.values()) {
      if (state.firingSince === null || state.timer !== null || !this.ctx.rules.has(state.signal.rule)) continue;
      const releasable = state.held === 'silence' || state.held === 'maintenance';
      if (state.active && !(releasable && this.holdReason(state.signal) === null)) continue;
      state.active = false;
      state.held = null;
      await this.activate(state).catch((err: unknown) => this.logFailure(err, state.signal));
    }
  }

  /** A broader alert cleared: alerts it held that still fire become active again. */
  private async releaseInhibited(cleared: Signal): Promise<void> {
    for (const state of this.coveredBy(cleared)) {
      if (state.held !== 'inhibited' || state.firingSince === null || this.inhibitorOf(state.signal)) continue;
      state.active = false;
      state.held = null;
      this.ctx.log.debug({ subject: state.signal.subject, after: cleared.subject }, 'inhibition lifted');
      await this.activate(state);
    }
  }
}
