export {
  applyRetention,
  formatDuration,
  type KeptSnapshot,
  type RetentionOptions,
  type RetentionPolicy,
  type RetentionResult,
  type RetentionSnapshot,
} from './policy.js';
export { bucketOf, calendarFields, isoWeek, type BucketKind, type CalendarFields } from './calendar.js';
