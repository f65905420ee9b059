export { decide, candidacyRefusal, syncSteps, parseLsn, formatLsn, type Action, type Observation, type PeerView, type PgRole, type HaSettings, type Lsn, type SyncStep } from './decide.js';
export { PostgresMember, BASE_SETTINGS, synchronousStandbyNames, parseSynchronousStandbyNames, type PostgresMemberOptions, type PgStatus } from './postgres-process.js';
export { MemberManager, type MemberManagerOptions, type MemberManagerEvents, type MemberRecord, type SyncRecord, type Peer, type ManagerState } from './member-manager.js';
export type { PgEndpoint } from './pg-query.js';
export { PrimaryTracker, primaryTrackerFactory, chooseFromScan, type PrimaryTrackerOptions, type PrimaryTrackerEvents, type PrimaryTrackerState, type PrimaryTrackerFactoryOptions } from './primary-tracker.js';
export { DatabaseHaService, type DatabaseHaEvents, type DatabaseHaServiceOptions } from './ha-service.js';
