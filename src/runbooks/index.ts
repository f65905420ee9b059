/**
 * The runbooks room's face: walking an operator through a runbook of
 * `runbooks:` (automated, manual and disaster-declaration steps) with a
 * timeline on the incident and a run log; `--dry-run` plans; `generate`
 * writes seed 000's DR runbook from the topology. See README.md.
 */
export { runRunbook, type RunRunbookOptions } from './runner.js';
export { planRunbook, type PlannedRunbookStep } from './plan.js';
export { generateRunbooks, type GenerateOptions } from './generate.js';
export { httpAdminApi } from './api.js';
export { listRuns, runFile, runsDir } from './log.js';
export type { AdminApi, FailureChoice, RunbookHooks, RunbookRun, RunOutcome, StepFailure, StepKind, StepOutcome, StepRecord } from './types.js';
