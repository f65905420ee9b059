export {
  buildTimeline, downtimePeriods, applyMaintenance, mergeRanges, toStatus,
  type DowntimePeriod, type Interval, type Status, type StatusChange, type TimeRange, type TimelineStatus,
} from './timeline.js';
export { maintenanceIntervals, type MaintenanceInterval, type MaintenanceWindowConfig } from './maintenance.js';
export {
  measure, measureWindows, WINDOWS,
  type ErrorBudget, type MeasureInput, type MeasureWindowsInput, type SloMeasurement, type WindowName,
} from './slo.js';
export { SloReporter, type OwnerSlo } from './reporter.js';
