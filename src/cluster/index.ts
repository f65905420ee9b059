export { ClusterService, readClusterStatusOf, type ClusterJoinOptions, type ClusterView } from './service.js';
export { readClusterStatus, SINGLETON_DUTIES, type ClusterStatus, type DutyHolder } from './status.js';
export { Duty, type DutyOptions, type DutyState } from './duty.js';
export { clusterKeys, type ClusterKeys } from './keys.js';
export type { MemberInfo } from './membership.js';
