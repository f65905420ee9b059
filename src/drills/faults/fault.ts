import { errorMessage } from '../../core/errors.js';
import type { RevertJournal } from '../journal.js';
import type { FaultEntry } from './entries.js';
import { revertFaultEntry } from './revert-fault.js';

/** A fault in effect; `revert` undoes it and removes its journal entry. */
export interface Fault { entry: FaultEntry; describe: string; revert(): Promise<string> }

/**
 * Journals the entry, then applies the fault. If applying fails half-way, the
 * entry is reverted at once (undoing a fault that never took is harmless).
 */
export async function applyFault(journal: RevertJournal, entry: FaultEntry, describe: string, apply: () => Promise<void>): Promise<Fault> {
  await journal.add(entry);
  const fault: Fault = {
    entry, describe,
    revert: async () => {
      const detail = await revertFaultEntry(entry);
      await journal.remove((e) => e === entry);
      return detail;
    },
  };
  try {
    await apply();
  } catch (err) {
    await fault.revert().catch(() => undefined);
    throw err;
  }
  return fault;
}

export interface RevertReport { ok: boolean; details: string[] }

/**
 * The faults of one drill. `revertAll` may be called by the stop condition and
 * by the drill's `finally` at once: both wait on the same pass, newest fault first.
 */
export class FaultSet {
  private readonly applied: Fault[] = [];
  private reverting: Promise<RevertReport> | undefined;

  add(fault: Fault): void {
    this.applied.push(fault);
  }

  get active(): readonly Fault[] {
    return this.applied;
  }

  /** Reverts what is applied; a fault added after a revert began is reverted by the next call. */
  revertAll(): Promise<RevertReport> {
    const before = this.reverting ?? Promise.resolve<RevertReport>({ ok: true, details: [] });
    this.reverting = before.then(async (done) => {
      if (this.applied.length === 0) return done;
      const now = await this.revertNow();
      return { ok: done.ok && now.ok, details: [...done.details, ...now.details] };
    });
    return this.reverting;
  }

  /** Reverts the faults that match now (an experiment's `continue` of its own stop); what each revert said. */
  async revertWhere(match: (f: Fault) => boolean): Promise<string[]> {
    const chosen = this.applied.filter(match);
    for (const f of chosen) this.applied.splice(this.applied.indexOf(f), 1);
    return Promise.all(chosen.map((f) => f.revert()));
  }

  private async revertNow(): Promise<RevertReport> {
    const details: string[] = [];
    let ok = true;
    // Concurrently: a stop condition's clock runs until the last one is back.
    const faults = this.applied.splice(0).reverse();
    const outcomes = await Promise.allSettled(faults.map((f) => f.revert()));
    outcomes.forEach((o, i) => {
      if (o.status === 'fulfilled') details.push(o.value);
      else {
        ok = false;
        details.push(`could not revert ${faults[i]!.describe}: ${errorMessage(o.reason)}`);
      }
    });
    return { ok, details };
  }
}
