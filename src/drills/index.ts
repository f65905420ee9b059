/**
 * The drills room's face: running DR drills in-process (`bulwark drill`),
 * replaying the revert journal at start, and rendering reports. Today two
 * drill types run, backup_restoration and database_failover; see README.md.
 */
export { DrillRunner, type DrillRunnerOptions, type RunDrillOptions } from './runner.js';
export type { PlannedStep } from './plan.js';
export { reportJson, reportMarkdown } from './report.js';
export { reportHtml } from './report-html.js';
export { drillTrends, sparkline, worstOf, type DrillTrend } from './trends.js';
export type { DrillReport, DrillTarget, FailoverMeasurement, Graded, PolicyMeasurement, TimelineStep } from './types.js';
export { DrillScheduler, type DrillSchedulerOptions, type ScheduledDrillView } from './scheduler.js';
export { childLauncher, DRILL_PARENT_ENV, type DrillLauncher, type LaunchResult } from './launch.js';
export type { DrillGateway } from './context.js';
export type { ZoneMeasurement } from './zone-types.js';
export type { ExperimentMeasurement } from './experiment/run.js';
export type { RegionMeasurement } from './region-types.js';
