export { BackupScheduler, MAX_CONCURRENT_RUNS, type BackupRunStore, type BackupSchedulerOptions, type StartResult } from './scheduler.js';
export { LOCK_WAIT_MS, type RunContext, type RunExecutor } from './execute.js';
export { lastDueAt, needsCatchUp, nextRunAt } from './plan.js';
export type { ActiveRunView, PolicyStatus, RunTrigger, RunView } from './status.js';
