import { Cron } from 'croner';
import type { BulwarkConfig, DrillConfig } from '../config/index.js';
import { maintenanceIntervals } from '../slo/index.js';
import type { IncidentRecord } from '../store/index.js';
import { DrillLock } from './lock.js';

/** Whether a scheduled drill may start now: go, wait for its maintenance window, or skip with a reason. */
export type Gate = { go: true } | { go: false; skip: string } | { go: false; waitUntil: number; window: string };

export interface GateFacts {
  config: BulwarkConfig;
  drillsDir: string;
  openIncidents: () => Promise<IncidentRecord[]>;
  /** The drill this daemon runs now, if any. */
  running: string | undefined;
  now: number;
}

/**
 * The order matters: a slot outside the drill's window waits for the window
 * first; when the window opens, a drill already running or an open critical
 * incident skips it.
 */
export async function gate(name: string, drill: DrillConfig, facts: GateFacts): Promise<Gate> {
  if (drill.maintenance_window !== undefined) {
    const window = windowGate(facts.config, drill.maintenance_window, facts.now);
    if (window) return window;
  }
  if (facts.running !== undefined) return { go: false, skip: `drill "${facts.running}" is running; drills run one at a time` };
  const holder = await DrillLock.holder(facts.drillsDir);
  if (holder) return { go: false, skip: `drill "${holder.drill}" is running (pid ${holder.pid}, since ${holder.since}); drills run one at a time` };
  const critical = (await facts.openIncidents()).filter((i) => i.severity === 'critical');
  if (critical.length > 0) {
    const list = critical.slice(0, 3).map((i) => `#${i.id} ${i.title}`).join('; ');
    return { go: false, skip: `${critical.length} critical incident(s) open (${list}); no drill runs during one` };
  }
  return { go: true };
}

function windowGate(config: BulwarkConfig, name: string, now: number): Gate | undefined {
  const window = config.maintenance_windows.find((w) => w.name === name);
  if (!window) return { go: false, skip: `maintenance window "${name}" is not declared under maintenance_windows` };
  if (maintenanceIntervals([window], { start: now, end: now + 1 }).length > 0) return undefined;
  const next = nextWindowStart(window, now);
  return next === undefined
    ? { go: false, skip: `outside maintenance window "${name}", which never opens again` }
    : { go: false, waitUntil: next, window: name };
}

function nextWindowStart(window: BulwarkConfig['maintenance_windows'][number], now: number): number | undefined {
  if (window.schedule) {
    const cron = new Cron(window.schedule.cron, { paused: true, timezone: window.schedule.timezone });
    try {
      return cron.nextRun(new Date(now))?.getTime();
    } finally {
      cron.stop();
    }
  }
  const start = window.start === undefined ? Number.NaN : Date.parse(window.start);
  return start > now ? start : undefined;
}
