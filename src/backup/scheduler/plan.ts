import { Cron } from 'croner';
import type { Schedule } from '../../config/index.js';

/**
 * The scheduling decisions, as pure functions of a schedule and a time (epoch
 * ms), on croner: the engine that validated the schedule when it was parsed.
 */

function withCron<T>(schedule: Schedule, fn: (cron: Cron) => T): T {
  const cron = new Cron(schedule.cron, { paused: true, timezone: schedule.timezone });
  try {
    return fn(cron);
  } finally {
    cron.stop();
  }
}

/** The first scheduled time strictly after `after`; null when the schedule never fires again. */
export function nextRunAt(schedule: Schedule, after: number): number | null {
  return withCron(schedule, (cron) => cron.nextRun(new Date(after))?.getTime() ?? null);
}

/** The most recent scheduled time at or before `now`; null when there is none. */
export function lastDueAt(schedule: Schedule, now: number): number | null {
  return withCron(schedule, (cron) => {
    // croner counts a run earlier in the same second as the reference; one exactly at it is not.
    const [previous] = cron.previousRuns(1, new Date(now + 1));
    return previous !== undefined && previous.getTime() <= now ? previous.getTime() : null;
  });
}

/**
 * Whether a run was due while nothing ran it (the daemon was down): the last
 * recorded run started before the latest scheduled time that has passed.
 * However many slots were missed, the answer is one run. A policy with no
 * recorded run waits for its schedule.
 */
export function needsCatchUp(schedule: Schedule, lastStartedAt: number | null, now: number): boolean {
  if (lastStartedAt === null) return false;
  const due = lastDueAt(schedule, now);
  return due !== null && lastStartedAt < due;
}

/** Two schedules fire at the same times. */
export function sameSchedule(a: Schedule, b: Schedule): boolean {
  return a.cron === b.cron && a.timezone === b.timezone;
}
