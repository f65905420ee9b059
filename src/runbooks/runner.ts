import { randomBytes } from 'node:crypto';
import type { RunbookConfig, RunbookStepConfig } from '../config/index.js';
import { errorMessage } from '../core/errors.js';
import { writeRun } from './log.js';
import { runStep, stepKind, type StepResult } from './steps.js';
import type { AdminApi, RunbookHooks, RunbookRun, StepRecord } from './types.js';

const NOTE_TIMEOUT_MS = 10_000;

export interface RunRunbookOptions {
  name: string;
  runbook: RunbookConfig;
  dataDir: string;
  /** The daemon's API; without it, api and declare steps fail and nothing goes onto an incident. */
  api?: AdminApi;
  hooks: RunbookHooks;
  /** The incident to write the timeline to; `null` for none yet (a declaration opens one). */
  incidentId: number | null;
  signal: AbortSignal;
  now?: () => number;
}

/**
 * Walks a runbook's steps in order with timestamps. A failed step asks
 * `hooks.onFailure` (retry, skip, abort); the run log is rewritten after every
 * step and each step's outcome is a note on the incident (best effort: the
 * log is the record, a note the daemon refuses is logged there).
 */
export async function runRunbook(options: RunRunbookOptions): Promise<RunbookRun> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const run: RunbookRun = {
    id: `${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}-${options.name}-${randomBytes(3).toString('hex')}`,
    runbook: options.name, startedAt, endedAt: null, outcome: null, incidentId: options.incidentId,
    steps: options.runbook.steps.map((s) => ({ name: s.name, kind: stepKind(s), ...(s.phase ? { phase: s.phase } : {}), outcome: 'not_run', startedAt: null, endedAt: null, attempts: 0 })),
  };
  await writeRun(options.dataDir, run);
  await note(options, run, `runbook ${options.name} started (${run.steps.length} steps, run ${run.id})`);
  try {
    run.outcome = await walk(options, run, now);
  } catch (err) {
    if (!options.signal.aborted) throw err;
    run.outcome = 'aborted';
  }
  run.endedAt = now();
  await note(options, run, `runbook ${options.name} ${run.outcome} after ${run.endedAt - run.startedAt} ms`);
  await writeRun(options.dataDir, run);
  return run;
}

async function walk(options: RunRunbookOptions, run: RunbookRun, now: () => number): Promise<RunbookRun['outcome']> {
  for (const [index, step] of options.runbook.steps.entries()) {
    const record = run.steps[index]!;
    const before = run.incidentId;
    const next = await attempt(options, run, step, record, now);
    await writeRun(options.dataDir, run);
    // A declaration opened the incident: what happened before it goes onto its timeline first.
    if (before === null && run.incidentId !== null) {
      await note(options, run, `runbook ${options.name} started at ${new Date(run.startedAt).toISOString()} (run ${run.id})`);
      for (const earlier of run.steps.slice(0, index)) await note(options, run, stepNote(options.name, earlier));
    }
    await note(options, run, stepNote(options.name, record));
    if (next === 'abort') return options.signal.aborted ? 'aborted' : 'failed';
  }
  // A skipped step was a failure the operator chose to go past: the run did not do everything.
  return run.steps.some((s) => s.outcome === 'failed' || s.outcome === 'skipped') ? 'failed' : 'completed';
}

/** Runs a step until it passes or the operator moves on; `abort` ends the run. */
async function attempt(options: RunRunbookOptions, run: RunbookRun, step: RunbookStepConfig, record: StepRecord, now: () => number): Promise<'next' | 'abort'> {
  for (;;) {
    if (options.signal.aborted) return 'abort';
    record.startedAt = now();
    record.attempts += 1;
    options.hooks.onStep?.({ ...record, outcome: 'not_run', endedAt: null });
    const result: StepResult = await runStep(step, { runbook: options.name, api: options.api, hooks: options.hooks, incidentId: run.incidentId, signal: options.signal });
    record.endedAt = now();
    record.detail = result.detail;
    if (result.confirmedBy !== undefined) record.confirmedBy = result.confirmedBy;
    if (result.incidentId !== undefined && run.incidentId === null) run.incidentId = result.incidentId;
    record.outcome = result.ok ? 'done' : 'failed';
    options.hooks.onStep?.({ ...record });
    if (result.ok) return 'next';
    const choice = await options.hooks.onFailure({ step: step.name, kind: record.kind, error: result.detail, attempts: record.attempts });
    if (choice === 'skip') {
      record.outcome = 'skipped';
      return 'next';
    }
    if (choice === 'abort') return 'abort';
  }
}

function stepNote(runbook: string, s: StepRecord): string {
  const took = s.startedAt !== null && s.endedAt !== null ? ` in ${s.endedAt - s.startedAt} ms` : '';
  const tries = s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
  return `runbook ${runbook}: step ${s.name}${s.phase ? ` [${s.phase}]` : ''} ${s.outcome}${took}${tries}${s.detail ? `: ${s.detail}` : ''}`;
}

/** A note on the run's incident; a refusal is kept in the run log, never fatal: the log is the record. */
async function note(options: RunRunbookOptions, run: RunbookRun, text: string): Promise<void> {
  if (!options.api || run.incidentId === null) return;
  // Its own timeout, not the run's signal: the last note ("aborted") goes out after an interrupt too.
  const failed = await options.api.call('POST', `/api/v1/incidents/${run.incidentId}/notes`, { text: text.slice(0, 4000) }, AbortSignal.timeout(NOTE_TIMEOUT_MS))
    .then((a) => (a.status >= 300 ? `HTTP ${a.status}` : null), (err: unknown) => errorMessage(err));
  if (failed !== null) run.noteErrors = [...(run.noteErrors ?? []), `${text.slice(0, 80)}: ${failed}`];
}
