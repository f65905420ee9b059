import type { Store } from '../store/index.js';
import { maintenanceIntervals, measure, type MaintenanceWindowConfig } from '../slo/index.js';
import {
  burnRateWindows, evaluateBurnRate, WORKBOOK_BURN_RATE_ALERTS,
  type BurnRateAlertSpec, type BurnRateEvaluation, type WindowCounts,
} from './burn-rate.js';

/**
 * Bad and total per window for a service or database, measured the way the SLO
 * reporter measures availability (`src/slo`): time-based, from the owner's
 * recorded state changes (the quorum decision), `bad` being the milliseconds it
 * was down and `total` those it was up or down. Unknown and maintenance time
 * count as neither. So a burn rate of 1 spends the budget exactly as fast as
 * `bulwark status` shows it shrinking.
 *
 * Not the probe rollups: those count checks per endpoint, so one endpoint down
 * of three would burn the service's budget although the service stayed up, and
 * a service checked every 10 s and one checked every minute would weigh
 * differently.
 */

export type BurnSourceStore = Pick<Store, 'stateChanges'>;

export interface BurnOwner {
  kind: 'service' | 'database';
  name: string;
}

export interface OwnerWindowCountsInput {
  owner: BurnOwner;
  now: number;
  /** Window lengths, each ending at `now`. */
  windowsMs: readonly number[];
  /** The config's `maintenance_windows`; those naming the owner are taken out, as the SLO reporter does. */
  maintenanceWindows?: readonly MaintenanceWindowConfig[];
}

/** Counts per window length, from one read of the longest window's state changes. */
export async function ownerWindowCounts(store: BurnSourceStore, input: OwnerWindowCountsInput): Promise<Map<number, WindowCounts>> {
  const out = new Map<number, WindowCounts>();
  if (input.windowsMs.length === 0) return out;
  const span = { start: input.now - Math.max(...input.windowsMs), end: input.now };
  const changes = await store.stateChanges({ subjectKind: input.owner.kind, subject: input.owner.name, since: span.start, until: span.end });
  const maintenance = maintenanceIntervals(input.maintenanceWindows ?? [], span, input.owner.name);
  for (const windowMs of input.windowsMs) {
    // The target does not change up or down time; measure only needs one.
    const m = measure({ changes, window: { start: input.now - windowMs, end: input.now }, maintenance, target: 1 });
    out.set(windowMs, { bad: m.downMs, total: m.upMs + m.downMs });
  }
  return out;
}

export interface OwnerBurnRateInput {
  owner: BurnOwner;
  /** The tier's availability: 0.999 for 99.9 %. */
  target: number;
  now: number;
  maintenanceWindows?: readonly MaintenanceWindowConfig[];
  /** The workbook's table by default. */
  specs?: readonly BurnRateAlertSpec[];
}

/** The burn-rate alerts of one service or database at `now`. */
export async function evaluateOwnerBurnRate(store: BurnSourceStore, input: OwnerBurnRateInput): Promise<BurnRateEvaluation> {
  const specs = input.specs ?? WORKBOOK_BURN_RATE_ALERTS;
  const counts = await ownerWindowCounts(store, {
    owner: input.owner, now: input.now, windowsMs: burnRateWindows(specs), maintenanceWindows: input.maintenanceWindows,
  });
  return evaluateBurnRate(input.target, counts, specs);
}
