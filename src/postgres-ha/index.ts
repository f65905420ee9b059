export { decide, candidacyRefusal, syncSteps, parseLsn, formatLsn, type Action, type Observation, type PeerView, type PgRole, type HaSettings, type Lsn, type SyncStep } from './decide.js';
export { PostgresMember, BASE_SETTINGS, synchronousStandbyNames, parseSynchronousStandbyNames, type PostgresMemberOptions, type PgStatus } from './postgres-process.js';
export { MemberManager, type MemberManagerOptions, type MemberManagerEvents, type MemberSnapshot, type ReconfigurableSettings, type Peer, type ManagerState } from './member-manager.js';
// Short-lived connections to a member with postgres-ha's timeouts and messages (db status asks members directly).
export { withClient, type PgEndpoint, type QueryOptions } from './pg-query.js';
export { PrimaryTracker, primaryTrackerFactory, chooseFromScan, type PrimaryTrackerOptions, type PrimaryTrackerEvents, type PrimaryTrackerState, type PrimaryTrackerFactoryOptions } from './primary-tracker.js';
export { DatabaseHaService, type DatabaseHaEvents, type DatabaseHaServiceOptions } from './ha-service.js';

// The etcd keys of the HA contract and the records stored under them.
export { readHaState, type HaState } from './ha-state.js';
export { databaseKeys, REQUEST_TTL_SECONDS, type DatabaseKeys, type MemberRecord, type SyncRecord, type HistoryEntry, type SwitchoverRequest, type FailoverRequest } from './keys.js';

// Operator functions: what `bulwark db` builds and asks (open a database as `bulwark up` plans it,
// init, switchover and failover requests, the members' live state).
export { openDb, localRuntime, initDb, switchoverLocally, type DbTarget, type InitDbOptions, type SwitchoverLocallyOptions } from './operator.js';
export type { MemberRuntime } from './runtime.js';
export { findPostgresBinDir } from './bin-dir.js';
export type { BootstrapResult } from './bootstrap.js';
export type { LocalSwitchoverResult } from './local-switchover.js';
export {
  etcdViewOf, lsnOf, probeMembers, requestFailover, requestSwitchover, waitForNewPrimary,
  type ControlContext, type ControlTopology, type DirectView, type EtcdView, type NewPrimary,
} from './control.js';
export { readRecorded, readReplication, shortReason, standbyNames, type RecordedView, type ReplicationRead, type WalSender } from './status-read.js';

// PgBouncer in front of the primary (`postgres.pooler`), paused across switchovers.
export { PoolerService, type PoolerServiceOptions, type PoolerStatus } from './pooler/pooler-service.js';
