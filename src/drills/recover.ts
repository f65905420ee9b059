import type { DrillRunsStore } from '../store/index.js';
import { BulwarkError } from '../core/errors.js';
import type { RevertJournal } from './journal.js';
import type { RevertEnv } from './revert-database.js';
import { revertAll } from './revert.js';
import { measuredOf, type DrillReport } from './types.js';

/**
 * What a drill that never finished left behind (the process running it died):
 * revert every entry of its journal, record the drill as aborted, clear the
 * journal. Entries that could not be reverted stay in it for the next start.
 */
export async function replayJournal(journal: RevertJournal, store: { drillRuns: DrillRunsStore }, now: () => number, env: RevertEnv = {}): Promise<DrillReport | undefined> {
  const left = await journal.read();
  if (!left) return undefined;
  const began = now();
  const outcomes = await revertAll(left.entries, env);
  const failed = outcomes.filter((o) => !o.done);
  const report: DrillReport = {
    id: left.run.id, drill: left.run.drill, type: left.run.type, outcome: 'aborted', startedAt: left.run.startedAt, finishedAt: now(),
    target: {}, notes: {}, policies: [],
    timeline: [{ step: 'recover', startedAt: began, durationMs: now() - began, ok: failed.length === 0, detail: outcomes.map((o) => o.detail).join('; ') || 'nothing to revert' }],
    issues: [
      'the drill did not finish: the process running it stopped, and the next start reverted what it had set up',
      ...failed.map((o) => `could not revert ${JSON.stringify(o.entry)}: ${o.detail}`),
    ],
    recommendations: ['run the drill again', ...(failed.length ? [`revert by hand what ${journal.path} still lists, then delete it`] : [])],
  };
  await recordOnce(store, report);
  if (failed.length === 0) await journal.clear();
  else {
    await journal.begin(left.run);
    for (const o of failed) await journal.add(o.entry);
  }
  return report;
}

/** A journal replayed twice (its revert failed the first time) records its run once. */
async function recordOnce(store: { drillRuns: DrillRunsStore }, report: DrillReport): Promise<void> {
  try {
    await store.drillRuns.record({ id: report.id, drill: report.drill, type: report.type, startedAt: report.startedAt, finishedAt: report.finishedAt, outcome: 'aborted', measured: measuredOf(report), report });
  } catch (err) {
    if (!(err instanceof BulwarkError && err.code === 'BAD_REQUEST')) throw err;
  }
}
