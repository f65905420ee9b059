import { Cron } from 'croner';
import { join, resolve } from 'node:path';
import type { BulwarkConfig, Schedule } from '../config/index.js';
import type { Subsystem } from '../core/lifecycle.js';
import type { Logger } from '../core/logger.js';
import { BulwarkError, errorMessage } from '../core/errors.js';
import type { DrillRunsStore, IncidentRecord, NewEvent } from '../store/index.js';
import { gate } from './gates.js';
import type { DrillLauncher, LaunchResult } from './launch.js';
import { DrillRunner } from './runner.js';

/** Node holds a timer for at most ~24.8 days and a quarterly drill is further off: wake hourly and look again. */
const MAX_TIMER_MS = 3_600_000;

export interface DrillSchedulerStore {
  drillRuns: DrillRunsStore;
  alerting: { openIncidents(): Promise<IncidentRecord[]> };
  appendEvent(event: NewEvent): Promise<unknown>;
}

export interface DrillSchedulerOptions {
  config: BulwarkConfig;
  dataDir: string;
  store: DrillSchedulerStore;
  log: Logger;
  launch: DrillLauncher;
  now?: () => number;
}

/** A drill as the scheduler holds it: its next slot, a slot waiting for its window, the last skip. */
export interface ScheduledDrillView {
  drill: string;
  schedule: string;
  maintenance_window: string | null;
  next_run: string | null;
  waiting_for_window_until: string | null;
  running: boolean;
  last_skip: { at: string; reason: string } | null;
}

interface Slot { schedule: Schedule; timer?: NodeJS.Timeout; due: number | null; waitUntil: number | null; lastSkip: { at: number; reason: string } | null }

/**
 * Runs the drills of dr_testing on their schedules, one at a time, through
 * the launcher (a child process: see launch.ts). At start it reverts what a
 * crashed drill left (the revert journal). A slot outside the drill's
 * maintenance window waits for the window; a slot that comes while a drill
 * runs or a critical incident is open is skipped, and the skip is recorded
 * (an event, and the view) with its reason. Slots missed while the daemon
 * was down are not made up.
 */
export class DrillScheduler implements Subsystem<BulwarkConfig> {
  readonly name = 'drills';
  private config: BulwarkConfig;
  private readonly slots = new Map<string, Slot>();
  private readonly drillsDir: string;
  private readonly now: () => number;
  private running: { drill: string; controller: AbortController; done: Promise<void> } | undefined;
  private stopping = false;

  constructor(private readonly options: DrillSchedulerOptions) {
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.drillsDir = join(resolve(options.dataDir), 'drills');
  }

  async start(): Promise<void> {
    // Started again after a stop when it is a cluster duty whose lease came back.
    this.stopping = false;
    await this.recover();
    this.sync();
  }

  async stop(deadline: AbortSignal): Promise<void> {
    this.stopping = true;
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
    const run = this.running;
    if (!run) return;
    this.options.log.info({ drill: run.drill }, 'stopping the drill in flight; it reverts what it set up');
    run.controller.abort(new BulwarkError('INTERNAL', 'the daemon is stopping'));
    await Promise.race([run.done, new Promise((r) => deadline.addEventListener('abort', r, { once: true }))]);
  }

  async reload(config: BulwarkConfig): Promise<void> {
    this.config = config;
    this.sync();
  }

  status(): ScheduledDrillView[] {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return [...this.slots].map(([drill, slot]) => ({
      drill, schedule: slot.schedule.text, maintenance_window: this.config.dr_testing[drill]?.maintenance_window ?? null,
      next_run: iso(slot.due), waiting_for_window_until: iso(slot.waitUntil), running: this.running?.drill === drill,
      last_skip: slot.lastSkip && { at: new Date(slot.lastSkip.at).toISOString(), reason: slot.lastSkip.reason },
    }));
  }

  /** The drill in flight, if any: resolves when it ends (tests; a stopping daemon). */
  get inFlight(): Promise<void> | undefined {
    return this.running?.done;
  }

  private async recover(): Promise<void> {
    const runner = new DrillRunner({ config: this.config, dataDir: this.options.dataDir, store: this.options.store });
    try {
      const report = await runner.recover();
      if (report) this.options.log.warn({ drill: report.drill, run: report.id, issues: report.issues }, 'reverted what an interrupted drill left; recorded it as aborted');
    } catch (err) {
      // A drill still running (a `bulwark drill run`, or a child left by a daemon that died) holds the lock and reverts its own faults.
      if (err instanceof BulwarkError && err.code === 'DATA_DIR_LOCKED') this.options.log.warn({ reason: err.message }, 'drill recovery skipped');
      else throw err;
    }
  }

  /** Timers for the drills of the configuration: new ones armed, removed ones dropped, changed schedules re-armed. */
  private sync(): void {
    for (const [drill, slot] of this.slots) {
      const now = this.config.dr_testing[drill];
      if (now && now.schedule.cron === slot.schedule.cron && now.schedule.timezone === slot.schedule.timezone) continue;
      clearTimeout(slot.timer);
      this.slots.delete(drill);
    }
    for (const [drill, config] of Object.entries(this.config.dr_testing)) {
      if (this.slots.has(drill)) continue;
      const slot: Slot = { schedule: config.schedule, due: null, waitUntil: null, lastSkip: null };
      this.slots.set(drill, slot);
      this.arm(drill, slot, nextSlot(config.schedule, this.now()));
    }
  }

  private arm(drill: string, slot: Slot, due: number | null): void {
    clearTimeout(slot.timer);
    slot.due = due;
    const at = slot.waitUntil ?? due;
    if (at === null || this.stopping) return;
    slot.timer = setTimeout(() => this.wake(drill, slot), Math.min(MAX_TIMER_MS, Math.max(0, at - this.now())));
    slot.timer.unref();
  }

  private wake(drill: string, slot: Slot): void {
    if (this.slots.get(drill) !== slot || this.stopping) return;
    const now = this.now();
    const at = slot.waitUntil ?? slot.due;
    if (at === null || now < at) return this.arm(drill, slot, slot.due);
    const waited = slot.waitUntil !== null;
    slot.waitUntil = null;
    // The next slot after now: slots missed while asleep are skipped, not fired in a burst.
    const next = waited ? slot.due : nextSlot(slot.schedule, Math.max(slot.due ?? now, now));
    this.arm(drill, slot, next);
    void this.due(drill, slot).catch((err) => this.options.log.error({ drill, err: errorMessage(err) }, 'scheduling a drill failed'));
  }

  private async due(drill: string, slot: Slot): Promise<void> {
    const config = this.config.dr_testing[drill];
    if (!config) return;
    const now = this.now();
    const unrunnable = this.unrunnable(drill);
    const verdict = unrunnable !== undefined ? { go: false as const, skip: unrunnable } : await gate(drill, config, {
      config: this.config, drillsDir: this.drillsDir, now, running: this.running?.drill,
      openIncidents: () => this.options.store.alerting.openIncidents(),
    });
    if ('waitUntil' in verdict) {
      slot.waitUntil = verdict.waitUntil;
      this.arm(drill, slot, slot.due);
      await this.event('drill.deferred', drill, { window: verdict.window, until: new Date(verdict.waitUntil).toISOString() });
      this.options.log.info({ drill, window: verdict.window, until: new Date(verdict.waitUntil).toISOString() }, 'drill waits for its maintenance window');
    } else if ('skip' in verdict) {
      slot.lastSkip = { at: now, reason: verdict.skip };
      await this.event('drill.skipped', drill, { reason: verdict.skip });
      this.options.log.warn({ drill, reason: verdict.skip }, 'scheduled drill skipped');
    } else this.launch(drill);
  }

  /** Why this drill cannot run at all (a type not built yet), so its slots are skipped rather than fail in a child. */
  private unrunnable(drill: string): string | undefined {
    try {
      new DrillRunner({ config: this.config, dataDir: this.options.dataDir, store: this.options.store }).drill(drill);
      return undefined;
    } catch (err) {
      return err instanceof BulwarkError ? err.message : errorMessage(err);
    }
  }

  private launch(drill: string): void {
    const controller = new AbortController();
    const done = this.options.launch(drill, controller.signal)
      .then((result) => this.finished(drill, result))
      .catch((err) => this.options.log.error({ drill, err: errorMessage(err) }, 'drill run failed'))
      .finally(() => {
        if (this.running?.done === done) this.running = undefined;
      });
    this.running = { drill, controller, done };
  }

  private async finished(drill: string, result: LaunchResult): Promise<void> {
    if (result.error !== undefined) {
      this.options.log.error({ drill, reason: result.error }, 'scheduled drill did not produce a report');
      await this.event('drill.error', drill, { reason: result.error });
      return;
    }
    const level = result.outcome === 'passed' ? 'info' : 'warn';
    this.options.log[level]({ drill, run: result.id, outcome: result.outcome }, 'scheduled drill finished');
    await this.event('drill.finished', drill, { run: result.id, outcome: result.outcome });
  }

  private async event(kind: string, drill: string, data: Record<string, unknown>): Promise<void> {
    await this.options.store.appendEvent({ subsystem: 'drills', kind, subject: `drill/${drill}`, data }).catch((err: unknown) => {
      this.options.log.warn({ drill, kind, err: errorMessage(err) }, 'could not record a drill event');
    });
  }
}

function nextSlot(schedule: Schedule, after: number): number | null {
  const cron = new Cron(schedule.cron, { paused: true, timezone: schedule.timezone });
  try {
    return cron.nextRun(new Date(after))?.getTime() ?? null;
  } finally {
    cron.stop();
  }
}
