/**
 * The drills room's face: running DR drills in-process (`bulwark drill`),
 * replaying the revert journal at start, and rendering reports. Today one
 * drill type runs, backup_restoration; see README.md.
 */
export { DrillRunner, type DrillRunnerOptions, type RunDrillOptions } from './runner.js';
export type { PlannedStep } from './plan.js';
export { reportJson, reportMarkdown } from './report.js';
export type { DrillReport, DrillTarget, Graded, PolicyMeasurement, TimelineStep } from './types.js';
export type { DrillGateway } from './context.js';
export type { ZoneMeasurement } from './zone-types.js';
