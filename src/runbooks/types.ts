import type { RunbookPhase } from '../config/index.js';

/** What a step does, from its configuration: `run: drill`, `command`, `api`, `manual` or `declare`. */
export type StepKind = 'drill' | 'command' | 'api' | 'manual' | 'declare';

/** `done`, `failed` (and the run stopped, or the operator skipped it after), `skipped` by the operator, `not_run` after an abort. */
export type StepOutcome = 'done' | 'failed' | 'skipped' | 'not_run';

export interface StepRecord {
  name: string;
  kind: StepKind;
  phase?: RunbookPhase;
  outcome: StepOutcome;
  startedAt: number | null;
  endedAt: number | null;
  attempts: number;
  /** One line: the command's exit, the API's status, who confirmed, the incident declared. */
  detail?: string;
  /** Manual steps: how the checklist was confirmed (`terminal`, `--confirm`, `--yes`). */
  confirmedBy?: string;
}

export type RunOutcome = 'completed' | 'failed' | 'aborted';

/** One walk through a runbook: kept as JSON under `<data dir>/runbooks/runs/`, rewritten after every step. */
export interface RunbookRun {
  id: string;
  runbook: string;
  startedAt: number;
  endedAt: number | null;
  /** `null` while it runs; `failed` when an automated step failed and nobody chose to go on; `aborted` by the operator or a signal. */
  outcome: RunOutcome | null;
  /** The incident the timeline went to: the one given or found open at the start, or the one a declaration opened. */
  incidentId: number | null;
  steps: StepRecord[];
  /** Timeline notes the daemon did not take (the run log still has every step). */
  noteErrors?: string[];
}

/** The admin API as a step sees it: an answer for any status, a throw only when the daemon cannot be reached. */
export interface AdminApi {
  call(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<{ status: number; body: unknown }>;
}

export interface StepFailure {
  step: string;
  kind: StepKind;
  error: string;
  attempts: number;
}

/** What the operator decides after a failed automated step; a script (no terminal) always aborts. */
export type FailureChoice = 'retry' | 'skip' | 'abort';

export interface RunbookHooks {
  /** A manual step's checklist: resolves with how it was confirmed, or null when it was not (the step fails). */
  confirm(step: string, items: readonly string[]): Promise<string | null>;
  onFailure(failure: StepFailure): Promise<FailureChoice>;
  /** A drill step: the CLI runs `bulwark drill run NAME` (the drills room's face), the runbooks room never imports it. */
  runDrill(name: string, signal: AbortSignal, timeoutMs: number): Promise<{ ok: boolean; detail: string }>;
  /** Every change of a step, for the terminal. */
  onStep?(step: StepRecord): void;
}
